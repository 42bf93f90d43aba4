-- A script for the harness's own tests: each R-URI user exercises one kind of state or route.

function ksr_request_route()
	KSR.info("request " .. KSR.pv.get("$rm") .. " " .. KSR.pv.get("$ru") .. " from " .. KSR.pv.get("$si") .. "\n")
	if KSR.is_CANCEL() or KSR.is_ACK() then
		if KSR.tm.t_check_trans() > 0 then KSR.tm.t_relay() end
		return 1
	end
	KSR.htable.sht_inc("seen", KSR.pv.get("$si"))
	if KSR.is_REGISTER() then
		if KSR.registrar.save("location", 0) < 0 then KSR.sl.sl_reply_error() end
		return 1
	end
	if KSR.htable.sht_get("ipban", KSR.pv.get("$si")) ~= nil then
		KSR.sl.sl_send_reply(403, "Banned")
		return 1
	end
	if KSR.permissions.allow_source_address(1) > 0 then
		KSR.setflag(3)
	end
	local user = KSR.pv.get("$rU")
	if user == "sub" then
		if KSR.auth_db.is_subscriber(KSR.pv.get("$fu"), "subscriber", 0) > 0 then
			KSR.sl.sl_send_reply(200, "Subscriber")
		else
			KSR.sl.sl_send_reply(404, "Not a subscriber")
		end
		return 1
	end
	if user == "ds" then
		if KSR.dispatcher.ds_select_dst(1, 0) < 0 then
			KSR.sl.sl_send_reply(503, "No gateway")
			return 1
		end
	end
	if user == "fork" then
		KSR.corex.append_branch_uri("sip:fork@192.0.2.42:5060")
		KSR.tm.t_on_branch("ksr_branch_mark")
		KSR.tm.t_on_reply("ksr_onreply_log")
		KSR.tm.t_on_branch_failure("ksr_branch_failed")
		KSR.tm.t_on_failure("ksr_failure_next")
	end
	KSR.pv.sets("$avp(user)", user or "")
	KSR.tm.t_relay()
end

function ksr_reply_route()
	KSR.info("reply " .. KSR.pv.get("$rs") .. "\n")
end

function ksr_branch_mark()
	KSR.hdr.append("X-Branch: " .. KSR.pv.get("$T_branch_idx") .. "\r\n")
end

function ksr_onreply_log()
	KSR.info("onreply " .. KSR.pv.get("$rs") .. "\n")
end

function ksr_branch_failed()
	KSR.info("branch failed " .. KSR.pv.get("$T_reply_code") .. "\n")
end

function ksr_failure_next()
	if KSR.tm.t_is_canceled() > 0 then return 1 end
	KSR.hdr.append("X-Failed: " .. KSR.pv.get("$T_reply_code") .. "\r\n")
	KSR.pv.sets("$du", "sip:192.0.2.60:5060")
	KSR.tm.t_relay()
end
