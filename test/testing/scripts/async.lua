-- t_suspend / t_continue: an INVITE to sip:park@ is suspended and its ids stored in an AVP-free
-- way: answered in a MESSAGE (X-Tindex / X-Tlabel headers) by a later request that continues it.
function ksr_request_route()
  local m = KSR.pv.get("$rm")
  if m == "INVITE" and KSR.pv.get("$rU") == "park" then
    KSR.setflag(4)
    if KSR.tmx.t_suspend() < 0 then
      KSR.sl.send_reply(500, "Suspend Failed")
      return
    end
    KSR.xlog.xinfo("suspended " .. KSR.pv.get("$T(id_index)") .. ":" .. KSR.pv.get("$T(id_label)") .. "\n")
    return
  end
  if m == "MESSAGE" and KSR.pv.get("$rU") == "resume" then
    local idx = tonumber(KSR.hdr.get("X-Tindex"))
    local lbl = tonumber(KSR.hdr.get("X-Tlabel"))
    local cb = KSR.hdr.get("X-Cb") or "ksr_resumed"
    local rc = KSR.tmx.t_continue(idx, lbl, cb)
    KSR.sl.send_reply(200, "Continue " .. rc)
    return
  end
  KSR.tm.t_relay()
end

function ksr_resumed()
  KSR.xlog.xinfo("resumed flag4=" .. tostring(KSR.isflagset(4)) .. " rU=" .. KSR.pv.get("$rU") .. "\n")
  KSR.setdsturi("sip:192.0.2.40:5070")
  KSR.tm.t_relay()
end

function ksr_resumed_reply()
  KSR.tm.t_reply(486, "Busy Here Later")
end

function ksr_resumed_nothing()
end
