-- kemi-proxy example: a small stateless edge proxy (KSR.forward, no transactions).
--
-- It runs unchanged on Kamailio 5.6 (cfgengine "lua"). Policy, as Kamailio's default config:
--   * sanity and Max-Forwards checks first (483 Too Many Hops, sanity's own 400s);
--   * OPTIONS to the proxy itself is a keepalive and gets 200;
--   * not an open relay: a request is relayed only when its R-URI or its From is one of our
--     domains (listen addresses and the config's aliases); anything else gets 403;
--   * requests for our domain with a user part go to that user's registered contact when the
--     registrar module is loaded, else 404.

-- Add a header so each hop shows which script version handled the request.
SCRIPT_TAG = "stateless.lua/1"

function ksr_request_route()
	if KSR.maxfwd.process_maxfwd(10) < 0 then
		KSR.sl.sl_send_reply(483, "Too Many Hops")
		return 1
	end

	if KSR.sanity.sanity_check(17895, 7) < 0 then
		KSR.err("malformed SIP message from " .. KSR.pv.get("$si") .. ":" .. KSR.pv.get("$sp") .. "\n")
		return 1
	end

	-- ACKs and CANCELs follow the path of their INVITE: relay them as they come.
	if KSR.is_ACK() or KSR.is_CANCEL() then
		KSR.forward()
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

	if KSR.is_myself_ruri() then
		if KSR.pv.is_null("$rU") then
			KSR.sl.sl_send_reply(404, "Not Found")
			return 1
		end
		if KSR.registrar == nil then
			KSR.sl.sl_send_reply(404, "Not Found")
			return 1
		end
		if KSR.registrar.lookup("location") < 0 then
			KSR.sl.sl_send_reply(404, "Not Found")
			return 1
		end
	end

	KSR.hdr.append("X-Kemi-Script: " .. SCRIPT_TAG .. "\r\n")
	if KSR.forward() < 0 then
		KSR.sl.sl_send_reply(500, "Relay Failed")
	end
	return 1
end
