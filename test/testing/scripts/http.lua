-- http_client (synchronous for the script) and http_async_client (suspends, continues in a function).
function ksr_request_route()
  local m = KSR.pv.get("$rm")
  local base = KSR.hdr.get("X-Base")
  if m == "MESSAGE" then
    local rc = KSR.http_client.query(base .. KSR.pv.get("$rU"), "$var(res)")
    KSR.xlog.xinfo("result " .. KSR.pv.get("$ci") .. " rc=" .. rc .. " res=" .. tostring(KSR.pv.get("$var(res)")) .. "\n")
    KSR.sl.send_reply(200, "OK")
    return
  end
  if m == "SUBSCRIBE" then
    local rc = KSR.http_client.curl_connect(KSR.pv.get("$rU"), "two", "$var(res)")
    KSR.xlog.xinfo("result " .. KSR.pv.get("$ci") .. " rc=" .. rc .. " res=" .. tostring(KSR.pv.get("$var(res)")) .. "\n")
    KSR.sl.send_reply(200, "OK")
    return
  end
  if m == "PUBLISH" then
    local rc = KSR.http_client.query_post_hdrs(base .. "echo", "hello", "X-A: 1\r\nX-B: 2", "$var(res)")
    KSR.xlog.xinfo("result " .. KSR.pv.get("$ci") .. " rc=" .. rc .. " res=" .. tostring(KSR.pv.get("$var(res)")) .. "\n")
    KSR.sl.send_reply(200, "OK")
    return
  end
  if m == "INVITE" then
    KSR.pv.sets("$http_req(hdr)", "X-Call: " .. KSR.pv.get("$ci"))
    if KSR.pv.get("$rU") == "nosusp" then
      KSR.pv.seti("$http_req(suspend)", 0)
      local r = KSR.http_async_client.query(base .. "allow", "ksr_http_event")
      KSR.xlog.xinfo("nosusp rc=" .. r .. "\n")
      KSR.sl.send_reply(202, "Queued")
      return
    end
    if KSR.pv.get("$rU") == "slowtimeout" then KSR.pv.seti("$http_req(timeout)", 100) end
    local rc = KSR.http_async_client.query(base .. KSR.pv.get("$rU"), "ksr_http_reply")
    KSR.xlog.xinfo("async rc=" .. rc .. "\n")
    return
  end
  KSR.sl.send_reply(200, "OK")
end

function ksr_http_reply()
  KSR.xlog.xinfo("http " .. KSR.pv.get("$ci") .. " ok=" .. tostring(KSR.pv.get("$http_ok")) .. " rs=" .. tostring(KSR.pv.get("$http_rs")) .. " rb=" .. tostring(KSR.pv.get("$http_rb")) .. " err=" .. tostring(KSR.pv.get("$http_err")) .. "\n")
  if KSR.pv.get("$http_ok") == 1 and KSR.pv.get("$http_rs") == 200 then
    KSR.setdsturi("sip:192.0.2.40:5070")
    KSR.xlog.xinfo("relay " .. KSR.pv.get("$ci") .. " rc=" .. KSR.tm.t_relay() .. "\n")
  else
    KSR.tm.t_reply(503, "HTTP Failed")
  end
end

function ksr_http_event()
  KSR.xlog.xinfo("event ok=" .. tostring(KSR.pv.get("$http_ok")) .. " rb=" .. tostring(KSR.pv.get("$http_rb")) .. " rm=" .. tostring(KSR.pv.get("$rm")) .. "\n")
end
