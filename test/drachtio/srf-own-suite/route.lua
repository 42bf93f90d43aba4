function ksr_request_route()
  if KSR.maxfwd.process_maxfwd(10) < 0 then
    KSR.sl.sl_send_reply(483, "Too Many Hops")
    return
  end
  if KSR.siputils.has_totag() > 0 then
    -- within a dialog no app owns: relay it when routed or addressed elsewhere, else 481
    if KSR.rr.loose_route() > 0 or not KSR.is_myself_ruri() then
      KSR.tm.t_relay()
      return
    end
    if KSR.is_ACK() then return end
    KSR.sl.sl_send_reply(481, "Call/Transaction Does Not Exist")
    return
  end
  if KSR.drachtio.send_to_app("") > 0 then return end
  KSR.sl.sl_send_reply(503, "No App")
end
