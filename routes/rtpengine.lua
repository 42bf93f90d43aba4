-- Calls with their media relayed through rtpengine (KSR.rtpengine, routes/rtpengine.json):
-- the offer is sent on the initial INVITE, the answer on the reply that carries SDP, and the
-- session is deleted on BYE, CANCEL and a negative final reply. rtpengine_manage() picks the
-- operation from the message, as in Kamailio; the SDP relayed carries the daemon's address and
-- ports instead of the endpoints'.

local RTPE_FLAGS = "replace-origin replace-session-connection ICE=remove"

function ksr_request_route()
  if KSR.maxfwd.process_maxfwd(10) < 0 then
    KSR.sl.sl_send_reply(483, "Too Many Hops")
    return 1
  end

  -- Retransmissions end here, absorbed by tm, before the media functions could run again.
  if not KSR.is_ACK() then
    if KSR.tmx.t_precheck_trans() > 0 then
      KSR.tm.t_check_trans()
      return 1
    end
    if KSR.tm.t_check_trans() == 0 then return 1 end
  end

  if KSR.is_CANCEL() then
    if KSR.tm.t_check_trans() > 0 then
      KSR.rtpengine.rtpengine_manage(RTPE_FLAGS)
      KSR.tm.t_relay()
    end
    return 1
  end

  if KSR.siputils.has_totag() > 0 then
    if KSR.rr.loose_route() > 0 then
      if KSR.is_BYE() then
        -- $rtpstat asks the daemon for the call's packet counts (before the delete).
        KSR.info("call " .. KSR.pv.get("$ci") .. " media: " .. (KSR.pv.get("$rtpstat") or "no stats") .. "\n")
      end
      -- BYE: delete; ACK or re-INVITE/UPDATE with SDP: answer or offer.
      KSR.rtpengine.rtpengine_manage(RTPE_FLAGS)
      if KSR.is_INVITE() or KSR.is_UPDATE() then
        KSR.tm.t_on_reply("ksr_onreply_media")
      end
      KSR.tm.t_relay()
    elseif KSR.is_ACK() and KSR.tm.t_check_trans() > 0 then
      KSR.tm.t_relay()
    else
      KSR.sl.sl_send_reply(404, "Not here")
    end
    return 1
  end

  if KSR.is_ACK() then
    if KSR.tm.t_check_trans() > 0 then KSR.tm.t_relay() end
    return 1
  end

  if KSR.is_INVITE() then
    KSR.rr.record_route()
    -- An INVITE without SDP (late offer): the offer comes in the 200, the answer in the ACK.
    if KSR.textops.has_body_type("application/sdp") > 0 and KSR.rtpengine.rtpengine_manage(RTPE_FLAGS) < 0 then
      KSR.sl.sl_send_reply(503, "Media Relay Unavailable")
      return 1
    end
    KSR.tm.t_on_reply("ksr_onreply_media")
    KSR.tm.t_on_failure("ksr_failure_media")
  end
  if KSR.tm.t_relay() < 0 then
    KSR.sl.sl_reply_error()
  end
  return 1
end

-- 183/200 with SDP: the answer; a reply >= 300: the session is deleted.
function ksr_onreply_media()
  KSR.rtpengine.rtpengine_manage(RTPE_FLAGS)
end

function ksr_failure_media()
  if KSR.tm.t_is_canceled() > 0 then return 1 end
end
