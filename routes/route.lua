-- kemi-proxy default routing script: a record-routing, stateful edge proxy.
--
-- It runs unchanged on Kamailio 5.6 (cfgengine "lua"). Policy, as Kamailio's default config:
--   * sanity and Max-Forwards checks first (483 Too Many Hops, sanity's own 400s);
--   * retransmissions are absorbed by tm; CANCEL and in-dialog requests follow their dialog;
--   * OPTIONS to the proxy itself is a keepalive and gets 200;
--   * not an open relay: a new request is relayed only when its R-URI or its From is one of our
--     domains (listen addresses and the config's aliases); anything else gets 403;
--   * requests for our domain with a user part go to that user's registered contacts when the
--     registrar module is loaded, else 404;
--   * dialog-forming requests are record-routed, and everything goes out through tm.

-- Added to relayed initial requests so each hop shows which script handled them.
SCRIPT_TAG = "route.lua/1"

function ksr_request_route()
	if KSR.maxfwd.process_maxfwd(10) < 0 then
		KSR.sl.sl_send_reply(483, "Too Many Hops")
		return 1
	end

	if KSR.sanity.sanity_check(17895, 7) < 0 then
		KSR.err("malformed SIP message from " .. KSR.pv.get("$si") .. ":" .. KSR.pv.get("$sp") .. "\n")
		return 1
	end

	-- CANCEL goes to its INVITE's transaction; an unknown one is dropped.
	if KSR.is_CANCEL() then
		if KSR.tm.t_check_trans() > 0 then
			ksr_route_relay()
		end
		return 1
	end

	-- Retransmissions and ACKs of our negative replies stop here.
	if not KSR.is_ACK() then
		if KSR.tmx.t_precheck_trans() > 0 then
			KSR.tm.t_check_trans()
			return 1
		end
		if KSR.tm.t_check_trans() == 0 then
			return 1
		end
	end

	if KSR.siputils.has_totag() > 0 then
		ksr_route_withindlg()
		return 1
	end

	if KSR.is_ACK() then
		-- An ACK without To-tag belongs to a transaction we no longer know.
		return 1
	end

	if KSR.is_OPTIONS() and KSR.is_myself_ruri() and KSR.pv.is_null("$rU") then
		KSR.sl.sl_send_reply(200, "Keepalive")
		return 1
	end

	if not (KSR.is_myself_ruri() or KSR.is_myself_furi()) then
		KSR.sl.sl_send_reply(403, "Not relaying")
		return 1
	end

	-- Stay on the path of dialogs we create.
	if KSR.is_method_in("IS") then
		KSR.rr.record_route()
	end

	if KSR.is_myself_ruri() then
		if KSR.pv.is_null("$rU") or KSR.registrar == nil then
			KSR.sl.sl_send_reply(404, "Not Found")
			return 1
		end
		if KSR.registrar.lookup("location") < 0 then
			KSR.sl.sl_send_reply(404, "Not Found")
			return 1
		end
	end

	KSR.hdr.append("X-Kemi-Script: " .. SCRIPT_TAG .. "\r\n")
	ksr_route_relay()
	return 1
end

-- Requests inside a dialog follow its route set.
function ksr_route_withindlg()
	if KSR.rr.loose_route() > 0 then
		ksr_route_relay()
		return 1
	end
	if KSR.is_ACK() then
		if KSR.tm.t_check_trans() > 0 then
			-- ACK to a 2xx of a transaction we still hold: relay it on.
			ksr_route_relay()
		end
		return 1
	end
	KSR.sl.sl_send_reply(404, "Not here")
	return 1
end

function ksr_route_relay()
	if KSR.is_INVITE() then
		KSR.tm.t_on_failure("ksr_failure_manage")
	end
	if KSR.tm.t_relay() < 0 then
		KSR.sl.sl_reply_error()
	end
	KSR.x.exit()
end

-- A failed call is answered with the best reply; a CANCELled one needs nothing more.
function ksr_failure_manage()
	if KSR.tm.t_is_canceled() > 0 then
		return 1
	end
	return 1
end
