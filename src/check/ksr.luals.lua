---@meta
-- KSR, the KEMI API of Kamailio 5.6.3 as kemi-proxy exposes it, for the Lua language server (LuaLS).
-- Generated from kemi-proxy's export tables by `kemi-proxy types --luals FILE`: do not edit.
-- Use: add this file's directory to "workspace.library" in .luarc.json.

---@type string
KSRVERSION = "2.0"

---@class KSR
---@field acc KSR.acc
---@field app_lua KSR.app_lua
---@field auth KSR.auth
---@field auth_db KSR.auth_db
---@field auth_xkeys KSR.auth_xkeys
---@field cfgutils KSR.cfgutils
---@field corex KSR.corex
---@field dialog KSR.dialog
---@field dispatcher KSR.dispatcher
---@field drachtio KSR.drachtio
---@field hdr KSR.hdr
---@field htable KSR.htable
---@field http_async_client KSR.http_async_client
---@field http_client KSR.http_client
---@field jsonrpcs KSR.jsonrpcs
---@field kex KSR.kex
---@field kx KSR.kx
---@field maxfwd KSR.maxfwd
---@field nathelper KSR.nathelper
---@field ndb_redis KSR.ndb_redis
---@field path KSR.path
---@field permissions KSR.permissions
---@field pike KSR.pike
---@field pv KSR.pv
---@field pvx KSR.pvx
---@field registrar KSR.registrar
---@field rr KSR.rr
---@field rtpengine KSR.rtpengine
---@field sanity KSR.sanity
---@field sdpops KSR.sdpops
---@field sipjson KSR.sipjson
---@field siptrace KSR.siptrace
---@field siputils KSR.siputils
---@field sl KSR.sl
---@field sqlops KSR.sqlops
---@field textops KSR.textops
---@field textopsx KSR.textopsx
---@field tls KSR.tls
---@field tm KSR.tm
---@field tmx KSR.tmx
---@field uac KSR.uac
---@field websocket KSR.websocket
---@field x KSR.x
---@field xhttp KSR.xhttp
---@field xlog KSR.xlog
KSR = {}

---@param p1 string
---@return false
function KSR.dbg(p1) end

---@param p1 string
---@return false
function KSR.err(p1) end

---@param p1 string
---@return false
function KSR.info(p1) end

---@param p1 string
---@return false
function KSR.warn(p1) end

---@param p1 string
---@return false
function KSR.notice(p1) end

---@param p1 string
---@return false
function KSR.crit(p1) end

---@param p1 string
---@param p2 string
---@return false
function KSR.log(p1, p2) end

---@return false
function KSR.set_drop() end

---@param p1 string
---@return boolean
function KSR.is_myself(p1) end

---@return boolean
function KSR.is_myself_ruri() end

---@return boolean
function KSR.is_myself_duri() end

---@return boolean
function KSR.is_myself_nhuri() end

---@return boolean
function KSR.is_myself_furi() end

---@return boolean
function KSR.is_myself_turi() end

---@return boolean
function KSR.is_myself_suri() end

---@return boolean
function KSR.is_myself_srcip() end

---@param p1 integer
---@return boolean
function KSR.setflag(p1) end

---@param p1 integer
---@return boolean
function KSR.resetflag(p1) end

---@param p1 integer
---@return boolean
function KSR.isflagset(p1) end

---@param p1 integer
---@return boolean
function KSR.setbflag(p1) end

---@param p1 integer
---@return boolean
function KSR.resetbflag(p1) end

---@param p1 integer
---@return boolean
function KSR.isbflagset(p1) end

---@param p1 integer
---@param p2 integer
---@return boolean
function KSR.setbiflag(p1, p2) end

---@param p1 integer
---@param p2 integer
---@return boolean
function KSR.resetbiflag(p1, p2) end

---@param p1 integer
---@param p2 integer
---@return boolean
function KSR.isbiflagset(p1, p2) end

---@param p1 integer
---@return boolean
function KSR.setsflag(p1) end

---@param p1 integer
---@return boolean
function KSR.resetsflag(p1) end

---@param p1 integer
---@return boolean
function KSR.issflagset(p1) end

---@param p1 string
---@return boolean
function KSR.seturi(p1) end

---@param p1 string
---@return boolean
function KSR.setuser(p1) end

---@param p1 string
---@return boolean
function KSR.sethost(p1) end

---@param p1 string
---@return boolean
function KSR.setdsturi(p1) end

---@return boolean
function KSR.resetdsturi() end

---@return boolean
function KSR.isdsturiset() end

---@return boolean
function KSR.force_rport() end

---@return boolean
function KSR.add_local_rport() end

---@param p1 string
---@return boolean
function KSR.is_method(p1) end

---@param p1 string
---@return boolean
function KSR.is_method_in(p1) end

---@return integer # Kamailio return code: > 0 success, < 0 failure, 0 stops the script. Every number is true in Lua: compare it.
function KSR.forward() end

---@param p1 string
---@return integer # Kamailio return code: > 0 success, < 0 failure, 0 stops the script. Every number is true in Lua: compare it.
function KSR.forward_uri(p1) end

---@return boolean
function KSR.set_forward_close() end

---@return boolean
function KSR.set_forward_no_connect() end

---@return boolean
function KSR.set_reply_close() end

---@return boolean
function KSR.set_reply_no_connect() end

---@param p1 string
---@return integer # Kamailio return code: > 0 success, < 0 failure, 0 stops the script. Every number is true in Lua: compare it.
function KSR.set_advertised_address(p1) end

---@param p1 string
---@return integer # Kamailio return code: > 0 success, < 0 failure, 0 stops the script. Every number is true in Lua: compare it.
function KSR.set_advertised_port(p1) end

---@param p1 integer
---@return integer # Kamailio return code: > 0 success, < 0 failure, 0 stops the script. Every number is true in Lua: compare it.
function KSR.add_tcp_alias(p1) end

---@return integer # Kamailio return code: > 0 success, < 0 failure, 0 stops the script. Every number is true in Lua: compare it.
function KSR.add_tcp_alias_via() end

---@return boolean
function KSR.is_INVITE() end

---@return boolean
function KSR.is_ACK() end

---@return boolean
function KSR.is_BYE() end

---@return boolean
function KSR.is_CANCEL() end

---@return boolean
function KSR.is_REGISTER() end

---@return boolean
function KSR.is_OPTIONS() end

---@return boolean
function KSR.is_SUBSCRIBE() end

---@return boolean
function KSR.is_PUBLISH() end

---@return boolean
function KSR.is_NOTIFY() end

---@return boolean
function KSR.is_REFER() end

---@return boolean
function KSR.is_INFO() end

---@return boolean
function KSR.is_UPDATE() end

---@return boolean
function KSR.is_PRACK() end

---@return boolean
function KSR.is_MESSAGE() end

---@return boolean
function KSR.is_KDMQ() end

---@return boolean
function KSR.is_GET() end

---@return boolean
function KSR.is_POST() end

---@return boolean
function KSR.is_PUT() end

---@return boolean
function KSR.is_DELETE() end

---@return boolean
function KSR.is_UDP() end

---@return boolean
function KSR.is_TCP() end

---@return boolean
function KSR.is_TLS() end

---@return boolean
function KSR.is_WS() end

---@return boolean
function KSR.is_WSS() end

---@return boolean
function KSR.is_WSX() end

---@return boolean
function KSR.is_SCTP() end

---@param p1 string
---@return boolean
function KSR.is_proto(p1) end

---@return boolean
function KSR.is_IPv4() end

---@return boolean
function KSR.is_IPv6() end

---@return boolean
function KSR.to_UDP() end

---@return boolean
function KSR.to_TCP() end

---@return boolean
function KSR.to_TLS() end

---@return boolean
function KSR.to_SCTP() end

---@return boolean
function KSR.to_WS() end

---@return boolean
function KSR.to_WSS() end

---@return boolean
function KSR.to_WSX() end

---@return boolean
function KSR.to_IPv4() end

---@return boolean
function KSR.to_IPv6() end

---@param p1 integer
---@return boolean
function KSR.is_src_port(p1) end

---@param p1 integer
---@return boolean
function KSR.is_dst_port(p1) end

---@return integer # Kamailio return code: > 0 success, < 0 failure, 0 stops the script. Every number is true in Lua: compare it.
function KSR.get_debug() end

---@param p1 string
---@return integer # Kamailio return code: > 0 success, < 0 failure, 0 stops the script. Every number is true in Lua: compare it.
function KSR.route(p1) end

---@class KSR.acc
KSR.acc = {}

---@param p1 string
---@return integer # Kamailio return code: > 0 success, < 0 failure, 0 stops the script. Every number is true in Lua: compare it.
function KSR.acc.acc_log_request(p1) end

---@param p1 string
---@param p2 string
---@return integer # Kamailio return code: > 0 success, < 0 failure, 0 stops the script. Every number is true in Lua: compare it.
function KSR.acc.acc_db_request(p1, p2) end

---@param p1 string
---@param p2 string
---@return integer # Kamailio return code: > 0 success, < 0 failure, 0 stops the script. Every number is true in Lua: compare it.
function KSR.acc.acc_request(p1, p2) end

---@class KSR.app_lua
KSR.app_lua = {}

---@param p1 string
---@return integer # Kamailio return code: > 0 success, < 0 failure, 0 stops the script. Every number is true in Lua: compare it.
function KSR.app_lua.dostring(p1) end

---@param p1 string
---@return integer # Kamailio return code: > 0 success, < 0 failure, 0 stops the script. Every number is true in Lua: compare it.
function KSR.app_lua.dofile(p1) end

---@param p1 string
---@return integer # Kamailio return code: > 0 success, < 0 failure, 0 stops the script. Every number is true in Lua: compare it.
function KSR.app_lua.runstring(p1) end

---@param p1 string
---@return integer # Kamailio return code: > 0 success, < 0 failure, 0 stops the script. Every number is true in Lua: compare it.
function KSR.app_lua.run(p1) end

---@param p1 string
---@param p2 string
---@return integer # Kamailio return code: > 0 success, < 0 failure, 0 stops the script. Every number is true in Lua: compare it.
function KSR.app_lua.run_p1(p1, p2) end

---@param p1 string
---@param p2 string
---@param p3 string
---@return integer # Kamailio return code: > 0 success, < 0 failure, 0 stops the script. Every number is true in Lua: compare it.
function KSR.app_lua.run_p2(p1, p2, p3) end

---@param p1 string
---@param p2 string
---@param p3 string
---@param p4 string
---@return integer # Kamailio return code: > 0 success, < 0 failure, 0 stops the script. Every number is true in Lua: compare it.
function KSR.app_lua.run_p3(p1, p2, p3, p4) end

---@class KSR.auth
KSR.auth = {}

---@return integer # Kamailio return code: > 0 success, < 0 failure, 0 stops the script. Every number is true in Lua: compare it.
function KSR.auth.consume_credentials() end

---@param p1 string
---@param p2 integer
---@return integer # Kamailio return code: > 0 success, < 0 failure, 0 stops the script. Every number is true in Lua: compare it.
function KSR.auth.auth_challenge(p1, p2) end

---@param p1 string
---@param p2 string
---@param p3 integer
---@param p4 integer
---@return integer # Kamailio return code: > 0 success, < 0 failure, 0 stops the script. Every number is true in Lua: compare it.
function KSR.auth.pv_auth_check(p1, p2, p3, p4) end

---@param p1 string
---@return integer # Kamailio return code: > 0 success, < 0 failure, 0 stops the script. Every number is true in Lua: compare it.
function KSR.auth.has_credentials(p1) end

---@class KSR.auth_db
KSR.auth_db = {}

---@param p1 string
---@param p2 string
---@param p3 integer
---@return integer # Kamailio return code: > 0 success, < 0 failure, 0 stops the script. Every number is true in Lua: compare it.
function KSR.auth_db.auth_check(p1, p2, p3) end

---@param p1 string
---@param p2 string
---@param p3 integer
---@return integer # Kamailio return code: > 0 success, < 0 failure, 0 stops the script. Every number is true in Lua: compare it.
function KSR.auth_db.is_subscriber(p1, p2, p3) end

---@class KSR.auth_xkeys
KSR.auth_xkeys = {}

---@param p1 string
---@param p2 string
---@param p3 string
---@param p4 string
---@return integer # Kamailio return code: > 0 success, < 0 failure, 0 stops the script. Every number is true in Lua: compare it.
function KSR.auth_xkeys.auth_xkeys_add(p1, p2, p3, p4) end

---@param p1 string
---@param p2 string
---@param p3 string
---@param p4 string
---@return integer # Kamailio return code: > 0 success, < 0 failure, 0 stops the script. Every number is true in Lua: compare it.
function KSR.auth_xkeys.auth_xkeys_check(p1, p2, p3, p4) end

---@class KSR.cfgutils
KSR.cfgutils = {}

---@param p1 string
---@return integer # Kamailio return code: > 0 success, < 0 failure, 0 stops the script. Every number is true in Lua: compare it.
function KSR.cfgutils.lock(p1) end

---@param p1 string
---@return integer # Kamailio return code: > 0 success, < 0 failure, 0 stops the script. Every number is true in Lua: compare it.
function KSR.cfgutils.unlock(p1) end

---@param p1 string
---@return integer # Kamailio return code: > 0 success, < 0 failure, 0 stops the script. Every number is true in Lua: compare it.
function KSR.cfgutils.trylock(p1) end

---@param p1 integer
---@return integer # Kamailio return code: > 0 success, < 0 failure, 0 stops the script. Every number is true in Lua: compare it.
function KSR.cfgutils.rand_set_prob(p1) end

---@return integer # Kamailio return code: > 0 success, < 0 failure, 0 stops the script. Every number is true in Lua: compare it.
function KSR.cfgutils.rand_reset_prob() end

---@return integer # Kamailio return code: > 0 success, < 0 failure, 0 stops the script. Every number is true in Lua: compare it.
function KSR.cfgutils.rand_get_prob() end

---@return integer # Kamailio return code: > 0 success, < 0 failure, 0 stops the script. Every number is true in Lua: compare it.
function KSR.cfgutils.rand_event() end

---@return integer # Kamailio return code: > 0 success, < 0 failure, 0 stops the script. Every number is true in Lua: compare it.
function KSR.cfgutils.abort() end

---@return integer # Kamailio return code: > 0 success, < 0 failure, 0 stops the script. Every number is true in Lua: compare it.
function KSR.cfgutils.pkg_status() end

---@return integer # Kamailio return code: > 0 success, < 0 failure, 0 stops the script. Every number is true in Lua: compare it.
function KSR.cfgutils.shm_status() end

---@return integer # Kamailio return code: > 0 success, < 0 failure, 0 stops the script. Every number is true in Lua: compare it.
function KSR.cfgutils.pkg_summary() end

---@return integer # Kamailio return code: > 0 success, < 0 failure, 0 stops the script. Every number is true in Lua: compare it.
function KSR.cfgutils.shm_summary() end

---@param p1 string
---@param p2 string
---@param p3 integer
---@return integer # Kamailio return code: > 0 success, < 0 failure, 0 stops the script. Every number is true in Lua: compare it.
function KSR.cfgutils.core_hash(p1, p2, p3) end

---@param p1 integer
---@return integer # Kamailio return code: > 0 success, < 0 failure, 0 stops the script. Every number is true in Lua: compare it.
function KSR.cfgutils.sleep(p1) end

---@param p1 integer
---@return integer # Kamailio return code: > 0 success, < 0 failure, 0 stops the script. Every number is true in Lua: compare it.
function KSR.cfgutils.usleep(p1) end

---@param p1 string
---@return integer # Kamailio return code: > 0 success, < 0 failure, 0 stops the script. Every number is true in Lua: compare it.
function KSR.cfgutils.check_route_exists(p1) end

---@param p1 string
---@return integer # Kamailio return code: > 0 success, < 0 failure, 0 stops the script. Every number is true in Lua: compare it.
function KSR.cfgutils.route_if_exists(p1) end

---@class KSR.corex
KSR.corex = {}

---@return integer # Kamailio return code: > 0 success, < 0 failure, 0 stops the script. Every number is true in Lua: compare it.
function KSR.corex.append_branch() end

---@param p1 string
---@return integer # Kamailio return code: > 0 success, < 0 failure, 0 stops the script. Every number is true in Lua: compare it.
function KSR.corex.append_branch_uri(p1) end

---@param p1 string
---@param p2 string
---@return integer # Kamailio return code: > 0 success, < 0 failure, 0 stops the script. Every number is true in Lua: compare it.
function KSR.corex.append_branch_uri_q(p1, p2) end

---@param p1 integer
---@return integer # Kamailio return code: > 0 success, < 0 failure, 0 stops the script. Every number is true in Lua: compare it.
function KSR.corex.setxflag(p1) end

---@param p1 integer
---@return integer # Kamailio return code: > 0 success, < 0 failure, 0 stops the script. Every number is true in Lua: compare it.
function KSR.corex.resetxflag(p1) end

---@param p1 integer
---@return integer # Kamailio return code: > 0 success, < 0 failure, 0 stops the script. Every number is true in Lua: compare it.
function KSR.corex.isxflagset(p1) end

---@param p1 string
---@return integer # Kamailio return code: > 0 success, < 0 failure, 0 stops the script. Every number is true in Lua: compare it.
function KSR.corex.set_send_socket(p1) end

---@param p1 string
---@return integer # Kamailio return code: > 0 success, < 0 failure, 0 stops the script. Every number is true in Lua: compare it.
function KSR.corex.set_send_socket_name(p1) end

---@param p1 string
---@return integer # Kamailio return code: > 0 success, < 0 failure, 0 stops the script. Every number is true in Lua: compare it.
function KSR.corex.set_recv_socket(p1) end

---@param p1 string
---@return integer # Kamailio return code: > 0 success, < 0 failure, 0 stops the script. Every number is true in Lua: compare it.
function KSR.corex.set_recv_socket_name(p1) end

---@param p1 string
---@return integer # Kamailio return code: > 0 success, < 0 failure, 0 stops the script. Every number is true in Lua: compare it.
function KSR.corex.set_source_address(p1) end

---@param p1 integer
---@return integer # Kamailio return code: > 0 success, < 0 failure, 0 stops the script. Every number is true in Lua: compare it.
function KSR.corex.via_add_srvid(p1) end

---@param p1 integer
---@return integer # Kamailio return code: > 0 success, < 0 failure, 0 stops the script. Every number is true in Lua: compare it.
function KSR.corex.via_add_xavp_params(p1) end

---@param p1 integer
---@return integer # Kamailio return code: > 0 success, < 0 failure, 0 stops the script. Every number is true in Lua: compare it.
function KSR.corex.via_use_xavp_fields(p1) end

---@return integer # Kamailio return code: > 0 success, < 0 failure, 0 stops the script. Every number is true in Lua: compare it.
function KSR.corex.has_ruri_user() end

---@return integer # Kamailio return code: > 0 success, < 0 failure, 0 stops the script. Every number is true in Lua: compare it.
function KSR.corex.has_user_agent() end

---@param p1 string
---@param p2 string
---@return integer # Kamailio return code: > 0 success, < 0 failure, 0 stops the script. Every number is true in Lua: compare it.
function KSR.corex.send_data(p1, p2) end

---@param p1 string
---@param p2 string
---@param p3 string
---@return integer # Kamailio return code: > 0 success, < 0 failure, 0 stops the script. Every number is true in Lua: compare it.
function KSR.corex.sendx(p1, p2, p3) end

---@return integer # Kamailio return code: > 0 success, < 0 failure, 0 stops the script. Every number is true in Lua: compare it.
function KSR.corex.is_faked_msg() end

---@param p1 string
---@return string|integer|nil
function KSR.corex.file_read(p1) end

---@param p1 string
---@param p2 string
---@return integer # Kamailio return code: > 0 success, < 0 failure, 0 stops the script. Every number is true in Lua: compare it.
function KSR.corex.file_write(p1, p2) end

---@param p1 string
---@return integer # Kamailio return code: > 0 success, < 0 failure, 0 stops the script. Every number is true in Lua: compare it.
function KSR.corex.is_socket_name(p1) end

---@class KSR.dialog
KSR.dialog = {}

---@return integer # Kamailio return code: > 0 success, < 0 failure, 0 stops the script. Every number is true in Lua: compare it.
function KSR.dialog.dlg_manage() end

---@param p1 string
---@return integer # Kamailio return code: > 0 success, < 0 failure, 0 stops the script. Every number is true in Lua: compare it.
function KSR.dialog.dlg_bye(p1) end

---@return integer # Kamailio return code: > 0 success, < 0 failure, 0 stops the script. Every number is true in Lua: compare it.
function KSR.dialog.is_known_dlg() end

---@param p1 integer
---@return integer # Kamailio return code: > 0 success, < 0 failure, 0 stops the script. Every number is true in Lua: compare it.
function KSR.dialog.dlg_set_timeout(p1) end

---@param p1 integer
---@param p2 integer
---@param p3 integer
---@return integer # Kamailio return code: > 0 success, < 0 failure, 0 stops the script. Every number is true in Lua: compare it.
function KSR.dialog.dlg_set_timeout_id(p1, p2, p3) end

---@param p1 string
---@return integer # Kamailio return code: > 0 success, < 0 failure, 0 stops the script. Every number is true in Lua: compare it.
function KSR.dialog.dlg_set_property(p1) end

---@param p1 string
---@return integer # Kamailio return code: > 0 success, < 0 failure, 0 stops the script. Every number is true in Lua: compare it.
function KSR.dialog.dlg_reset_property(p1) end

---@param p1 string
---@param p2 string
---@param p3 string
---@return integer # Kamailio return code: > 0 success, < 0 failure, 0 stops the script. Every number is true in Lua: compare it.
function KSR.dialog.dlg_get(p1, p2, p3) end

---@param p1 string
---@return integer # Kamailio return code: > 0 success, < 0 failure, 0 stops the script. Every number is true in Lua: compare it.
function KSR.dialog.set_dlg_profile_static(p1) end

---@param p1 string
---@param p2 string
---@return integer # Kamailio return code: > 0 success, < 0 failure, 0 stops the script. Every number is true in Lua: compare it.
function KSR.dialog.set_dlg_profile(p1, p2) end

---@param p1 string
---@return integer # Kamailio return code: > 0 success, < 0 failure, 0 stops the script. Every number is true in Lua: compare it.
function KSR.dialog.unset_dlg_profile_static(p1) end

---@param p1 string
---@param p2 string
---@return integer # Kamailio return code: > 0 success, < 0 failure, 0 stops the script. Every number is true in Lua: compare it.
function KSR.dialog.unset_dlg_profile(p1, p2) end

---@param p1 string
---@return integer # Kamailio return code: > 0 success, < 0 failure, 0 stops the script. Every number is true in Lua: compare it.
function KSR.dialog.is_in_profile_static(p1) end

---@param p1 string
---@param p2 string
---@return integer # Kamailio return code: > 0 success, < 0 failure, 0 stops the script. Every number is true in Lua: compare it.
function KSR.dialog.is_in_profile(p1, p2) end

---@param p1 string
---@param p2 string
---@return integer # Kamailio return code: > 0 success, < 0 failure, 0 stops the script. Every number is true in Lua: compare it.
function KSR.dialog.get_profile_size_static(p1, p2) end

---@param p1 string
---@param p2 string
---@param p3 string
---@return integer # Kamailio return code: > 0 success, < 0 failure, 0 stops the script. Every number is true in Lua: compare it.
function KSR.dialog.get_profile_size(p1, p2, p3) end

---@param p1 integer
---@return integer # Kamailio return code: > 0 success, < 0 failure, 0 stops the script. Every number is true in Lua: compare it.
function KSR.dialog.dlg_setflag(p1) end

---@param p1 integer
---@return integer # Kamailio return code: > 0 success, < 0 failure, 0 stops the script. Every number is true in Lua: compare it.
function KSR.dialog.dlg_resetflag(p1) end

---@param p1 integer
---@return integer # Kamailio return code: > 0 success, < 0 failure, 0 stops the script. Every number is true in Lua: compare it.
function KSR.dialog.dlg_isflagset(p1) end

---@param p1 string
---@return integer # Kamailio return code: > 0 success, < 0 failure, 0 stops the script. Every number is true in Lua: compare it.
function KSR.dialog.dlg_db_load_callid(p1) end

---@return integer # Kamailio return code: > 0 success, < 0 failure, 0 stops the script. Every number is true in Lua: compare it.
function KSR.dialog.dlg_db_load_extra() end

---@param p1 string
---@param p2 string
---@return integer # Kamailio return code: > 0 success, < 0 failure, 0 stops the script. Every number is true in Lua: compare it.
function KSR.dialog.var_sets(p1, p2) end

---@param p1 string
---@return string|integer|nil
function KSR.dialog.var_get(p1) end

---@param p1 string
---@return string|integer|nil
function KSR.dialog.var_gete(p1) end

---@param p1 string
---@return string|integer|nil
function KSR.dialog.var_getw(p1) end

---@param p1 string
---@return integer # Kamailio return code: > 0 success, < 0 failure, 0 stops the script. Every number is true in Lua: compare it.
function KSR.dialog.var_rm(p1) end

---@param p1 string
---@return integer # Kamailio return code: > 0 success, < 0 failure, 0 stops the script. Every number is true in Lua: compare it.
function KSR.dialog.var_is_null(p1) end

---@param p1 string
---@param p2 string
---@param p3 string
---@return integer # Kamailio return code: > 0 success, < 0 failure, 0 stops the script. Every number is true in Lua: compare it.
function KSR.dialog.dlg_bridge(p1, p2, p3) end

---@class KSR.dispatcher
KSR.dispatcher = {}

---@param p1 integer
---@param p2 integer
---@return integer # Kamailio return code: > 0 success, < 0 failure, 0 stops the script. Every number is true in Lua: compare it.
function KSR.dispatcher.ds_select(p1, p2) end

---@param p1 integer
---@param p2 integer
---@param p3 integer
---@return integer # Kamailio return code: > 0 success, < 0 failure, 0 stops the script. Every number is true in Lua: compare it.
function KSR.dispatcher.ds_select_limit(p1, p2, p3) end

---@param p1 integer
---@param p2 integer
---@return integer # Kamailio return code: > 0 success, < 0 failure, 0 stops the script. Every number is true in Lua: compare it.
function KSR.dispatcher.ds_select_domain(p1, p2) end

---@param p1 integer
---@param p2 integer
---@param p3 integer
---@return integer # Kamailio return code: > 0 success, < 0 failure, 0 stops the script. Every number is true in Lua: compare it.
function KSR.dispatcher.ds_select_domain_limit(p1, p2, p3) end

---@return integer # Kamailio return code: > 0 success, < 0 failure, 0 stops the script. Every number is true in Lua: compare it.
function KSR.dispatcher.ds_next_domain() end

---@return integer # Kamailio return code: > 0 success, < 0 failure, 0 stops the script. Every number is true in Lua: compare it.
function KSR.dispatcher.ds_set_domain() end

---@param p1 integer
---@param p2 integer
---@return integer # Kamailio return code: > 0 success, < 0 failure, 0 stops the script. Every number is true in Lua: compare it.
function KSR.dispatcher.ds_select_dst(p1, p2) end

---@param p1 integer
---@param p2 integer
---@param p3 integer
---@return integer # Kamailio return code: > 0 success, < 0 failure, 0 stops the script. Every number is true in Lua: compare it.
function KSR.dispatcher.ds_select_dst_limit(p1, p2, p3) end

---@param p1 string
---@param p2 string
---@return integer # Kamailio return code: > 0 success, < 0 failure, 0 stops the script. Every number is true in Lua: compare it.
function KSR.dispatcher.ds_select_routes(p1, p2) end

---@param p1 string
---@param p2 string
---@param p3 integer
---@return integer # Kamailio return code: > 0 success, < 0 failure, 0 stops the script. Every number is true in Lua: compare it.
function KSR.dispatcher.ds_select_routes_limit(p1, p2, p3) end

---@return integer # Kamailio return code: > 0 success, < 0 failure, 0 stops the script. Every number is true in Lua: compare it.
function KSR.dispatcher.ds_next_dst() end

---@return integer # Kamailio return code: > 0 success, < 0 failure, 0 stops the script. Every number is true in Lua: compare it.
function KSR.dispatcher.ds_set_dst() end

---@return integer # Kamailio return code: > 0 success, < 0 failure, 0 stops the script. Every number is true in Lua: compare it.
function KSR.dispatcher.ds_mark_dst() end

---@param p1 string
---@return integer # Kamailio return code: > 0 success, < 0 failure, 0 stops the script. Every number is true in Lua: compare it.
function KSR.dispatcher.ds_mark_dst_state(p1) end

---@return integer # Kamailio return code: > 0 success, < 0 failure, 0 stops the script. Every number is true in Lua: compare it.
function KSR.dispatcher.ds_is_from_lists() end

---@param p1 integer
---@return integer # Kamailio return code: > 0 success, < 0 failure, 0 stops the script. Every number is true in Lua: compare it.
function KSR.dispatcher.ds_is_from_list(p1) end

---@param p1 integer
---@param p2 integer
---@return integer # Kamailio return code: > 0 success, < 0 failure, 0 stops the script. Every number is true in Lua: compare it.
function KSR.dispatcher.ds_is_from_list_mode(p1, p2) end

---@param p1 integer
---@param p2 integer
---@param p3 string
---@return integer # Kamailio return code: > 0 success, < 0 failure, 0 stops the script. Every number is true in Lua: compare it.
function KSR.dispatcher.ds_is_from_list_uri(p1, p2, p3) end

---@return integer # Kamailio return code: > 0 success, < 0 failure, 0 stops the script. Every number is true in Lua: compare it.
function KSR.dispatcher.ds_load_update() end

---@return integer # Kamailio return code: > 0 success, < 0 failure, 0 stops the script. Every number is true in Lua: compare it.
function KSR.dispatcher.ds_load_unset() end

---@return integer # Kamailio return code: > 0 success, < 0 failure, 0 stops the script. Every number is true in Lua: compare it.
function KSR.dispatcher.ds_reload() end

---@param p1 integer
---@return integer # Kamailio return code: > 0 success, < 0 failure, 0 stops the script. Every number is true in Lua: compare it.
function KSR.dispatcher.ds_list_exists(p1) end

---@param p1 integer
---@return integer # Kamailio return code: > 0 success, < 0 failure, 0 stops the script. Every number is true in Lua: compare it.
function KSR.dispatcher.ds_is_active(p1) end

---@param p1 integer
---@param p2 string
---@return integer # Kamailio return code: > 0 success, < 0 failure, 0 stops the script. Every number is true in Lua: compare it.
function KSR.dispatcher.ds_is_active_uri(p1, p2) end

---@class KSR.drachtio
KSR.drachtio = {}

---@param p1 string
---@return integer # Kamailio return code: > 0 success, < 0 failure, 0 stops the script. Every number is true in Lua: compare it.
function KSR.drachtio.send_to_app(p1) end

---@param p1 string
---@return integer # Kamailio return code: > 0 success, < 0 failure, 0 stops the script. Every number is true in Lua: compare it.
function KSR.drachtio.send_to_addr(p1) end

---@class KSR.hdr
KSR.hdr = {}

---@param p1 string
---@return integer # Kamailio return code: > 0 success, < 0 failure, 0 stops the script. Every number is true in Lua: compare it.
function KSR.hdr.append(p1) end

---@param p1 string
---@param p2 string
---@return integer # Kamailio return code: > 0 success, < 0 failure, 0 stops the script. Every number is true in Lua: compare it.
function KSR.hdr.append_after(p1, p2) end

---@param p1 string
---@return integer # Kamailio return code: > 0 success, < 0 failure, 0 stops the script. Every number is true in Lua: compare it.
function KSR.hdr.insert(p1) end

---@param p1 string
---@param p2 string
---@return integer # Kamailio return code: > 0 success, < 0 failure, 0 stops the script. Every number is true in Lua: compare it.
function KSR.hdr.insert_before(p1, p2) end

---@param p1 string
---@return integer # Kamailio return code: > 0 success, < 0 failure, 0 stops the script. Every number is true in Lua: compare it.
function KSR.hdr.remove(p1) end

---@param p1 string
---@param p2 string
---@return integer # Kamailio return code: > 0 success, < 0 failure, 0 stops the script. Every number is true in Lua: compare it.
function KSR.hdr.rmappend(p1, p2) end

---@param p1 string
---@param p2 string
---@return integer # Kamailio return code: > 0 success, < 0 failure, 0 stops the script. Every number is true in Lua: compare it.
function KSR.hdr.rminsert(p1, p2) end

---@param p1 string
---@return integer # Kamailio return code: > 0 success, < 0 failure, 0 stops the script. Every number is true in Lua: compare it.
function KSR.hdr.is_present(p1) end

---@param p1 string
---@return integer # Kamailio return code: > 0 success, < 0 failure, 0 stops the script. Every number is true in Lua: compare it.
function KSR.hdr.append_to_reply(p1) end

---@param p1 string
---@return string|integer|nil
function KSR.hdr.get(p1) end

---@param p1 string
---@return string|integer|nil
function KSR.hdr.gete(p1) end

---@param p1 string
---@return string|integer|nil
function KSR.hdr.getw(p1) end

---@param p1 string
---@param p2 integer
---@return string|integer|nil
function KSR.hdr.get_idx(p1, p2) end

---@param p1 string
---@param p2 integer
---@return string|integer|nil
function KSR.hdr.gete_idx(p1, p2) end

---@param p1 string
---@param p2 integer
---@return string|integer|nil
function KSR.hdr.getw_idx(p1, p2) end

---@param p1 string
---@param p2 string
---@param p3 string
---@param p4 string
---@return boolean
function KSR.hdr.match_content(p1, p2, p3, p4) end

---@class KSR.htable
KSR.htable = {}

---@param p1 string
---@param p2 string
---@return integer # Kamailio return code: > 0 success, < 0 failure, 0 stops the script. Every number is true in Lua: compare it.
function KSR.htable.sht_lock(p1, p2) end

---@param p1 string
---@param p2 string
---@return integer # Kamailio return code: > 0 success, < 0 failure, 0 stops the script. Every number is true in Lua: compare it.
function KSR.htable.sht_unlock(p1, p2) end

---@param p1 string
---@return integer # Kamailio return code: > 0 success, < 0 failure, 0 stops the script. Every number is true in Lua: compare it.
function KSR.htable.sht_reset(p1) end

---@param p1 string
---@param p2 string
---@return integer # Kamailio return code: > 0 success, < 0 failure, 0 stops the script. Every number is true in Lua: compare it.
function KSR.htable.sht_iterator_start(p1, p2) end

---@param p1 string
---@return integer # Kamailio return code: > 0 success, < 0 failure, 0 stops the script. Every number is true in Lua: compare it.
function KSR.htable.sht_iterator_next(p1) end

---@param p1 string
---@return integer # Kamailio return code: > 0 success, < 0 failure, 0 stops the script. Every number is true in Lua: compare it.
function KSR.htable.sht_iterator_end(p1) end

---@param p1 string
---@return integer # Kamailio return code: > 0 success, < 0 failure, 0 stops the script. Every number is true in Lua: compare it.
function KSR.htable.sht_iterator_rm(p1) end

---@param p1 string
---@param p2 string
---@return integer # Kamailio return code: > 0 success, < 0 failure, 0 stops the script. Every number is true in Lua: compare it.
function KSR.htable.sht_iterator_sets(p1, p2) end

---@param p1 string
---@param p2 integer
---@return integer # Kamailio return code: > 0 success, < 0 failure, 0 stops the script. Every number is true in Lua: compare it.
function KSR.htable.sht_iterator_seti(p1, p2) end

---@param p1 string
---@param p2 integer
---@return integer # Kamailio return code: > 0 success, < 0 failure, 0 stops the script. Every number is true in Lua: compare it.
function KSR.htable.sht_iterator_setex(p1, p2) end

---@param p1 string
---@param p2 string
---@return integer # Kamailio return code: > 0 success, < 0 failure, 0 stops the script. Every number is true in Lua: compare it.
function KSR.htable.sht_rm(p1, p2) end

---@param p1 string
---@param p2 string
---@return integer # Kamailio return code: > 0 success, < 0 failure, 0 stops the script. Every number is true in Lua: compare it.
function KSR.htable.sht_rm_name_re(p1, p2) end

---@param p1 string
---@param p2 string
---@return integer # Kamailio return code: > 0 success, < 0 failure, 0 stops the script. Every number is true in Lua: compare it.
function KSR.htable.sht_rm_value_re(p1, p2) end

---@param p1 string
---@param p2 string
---@param p3 string
---@return integer # Kamailio return code: > 0 success, < 0 failure, 0 stops the script. Every number is true in Lua: compare it.
function KSR.htable.sht_rm_name(p1, p2, p3) end

---@param p1 string
---@param p2 string
---@param p3 string
---@return integer # Kamailio return code: > 0 success, < 0 failure, 0 stops the script. Every number is true in Lua: compare it.
function KSR.htable.sht_rm_value(p1, p2, p3) end

---@param p1 string
---@param p2 string
---@param p3 string
---@return integer # Kamailio return code: > 0 success, < 0 failure, 0 stops the script. Every number is true in Lua: compare it.
function KSR.htable.sht_match_name(p1, p2, p3) end

---@param p1 string
---@param p2 string
---@param p3 string
---@return integer # Kamailio return code: > 0 success, < 0 failure, 0 stops the script. Every number is true in Lua: compare it.
function KSR.htable.sht_match_str_value(p1, p2, p3) end

---@param p1 string
---@param p2 string
---@return string|integer|nil
function KSR.htable.sht_get(p1, p2) end

---@param p1 string
---@param p2 string
---@return string|integer|nil
function KSR.htable.sht_gete(p1, p2) end

---@param p1 string
---@param p2 string
---@return string|integer|nil
function KSR.htable.sht_getw(p1, p2) end

---@param p1 string
---@param p2 string
---@param p3 string
---@return integer # Kamailio return code: > 0 success, < 0 failure, 0 stops the script. Every number is true in Lua: compare it.
function KSR.htable.sht_sets(p1, p2, p3) end

---@param p1 string
---@param p2 string
---@param p3 integer
---@return integer # Kamailio return code: > 0 success, < 0 failure, 0 stops the script. Every number is true in Lua: compare it.
function KSR.htable.sht_seti(p1, p2, p3) end

---@param p1 string
---@param p2 string
---@param p3 integer
---@return integer # Kamailio return code: > 0 success, < 0 failure, 0 stops the script. Every number is true in Lua: compare it.
function KSR.htable.sht_setex(p1, p2, p3) end

---@param p1 string
---@param p2 string
---@param p3 integer
---@param p4 integer
---@return integer # Kamailio return code: > 0 success, < 0 failure, 0 stops the script. Every number is true in Lua: compare it.
function KSR.htable.sht_setxi(p1, p2, p3, p4) end

---@param p1 string
---@param p2 string
---@param p3 string
---@param p4 integer
---@return integer # Kamailio return code: > 0 success, < 0 failure, 0 stops the script. Every number is true in Lua: compare it.
function KSR.htable.sht_setxs(p1, p2, p3, p4) end

---@param p1 string
---@param p2 string
---@return integer # Kamailio return code: > 0 success, < 0 failure, 0 stops the script. Every number is true in Lua: compare it.
function KSR.htable.sht_is_null(p1, p2) end

---@param p1 string
---@param p2 string
---@return integer # Kamailio return code: > 0 success, < 0 failure, 0 stops the script. Every number is true in Lua: compare it.
function KSR.htable.sht_inc(p1, p2) end

---@param p1 string
---@param p2 string
---@return integer # Kamailio return code: > 0 success, < 0 failure, 0 stops the script. Every number is true in Lua: compare it.
function KSR.htable.sht_dec(p1, p2) end

---@class KSR.http_async_client
KSR.http_async_client = {}

---@param p1 string
---@param p2 string
---@return integer # Kamailio return code: > 0 success, < 0 failure, 0 stops the script. Every number is true in Lua: compare it.
function KSR.http_async_client.query(p1, p2) end

---@class KSR.http_client
KSR.http_client = {}

---@param p1 string
---@param p2 string
---@return integer # Kamailio return code: > 0 success, < 0 failure, 0 stops the script. Every number is true in Lua: compare it.
function KSR.http_client.query(p1, p2) end

---@param p1 string
---@param p2 string
---@param p3 string
---@return integer # Kamailio return code: > 0 success, < 0 failure, 0 stops the script. Every number is true in Lua: compare it.
function KSR.http_client.query_post(p1, p2, p3) end

---@param p1 string
---@param p2 string
---@param p3 string
---@param p4 string
---@return integer # Kamailio return code: > 0 success, < 0 failure, 0 stops the script. Every number is true in Lua: compare it.
function KSR.http_client.query_post_hdrs(p1, p2, p3, p4) end

---@param p1 string
---@param p2 string
---@param p3 string
---@param p4 string
---@return integer # Kamailio return code: > 0 success, < 0 failure, 0 stops the script. Every number is true in Lua: compare it.
function KSR.http_client.get_hdrs(p1, p2, p3, p4) end

---@param p1 string
---@param p2 string
---@param p3 string
---@return integer # Kamailio return code: > 0 success, < 0 failure, 0 stops the script. Every number is true in Lua: compare it.
function KSR.http_client.curl_connect(p1, p2, p3) end

---@param p1 string
---@param p2 string
---@param p3 string
---@param p4 string
---@param p5 string
---@return integer # Kamailio return code: > 0 success, < 0 failure, 0 stops the script. Every number is true in Lua: compare it.
function KSR.http_client.curl_connect_post(p1, p2, p3, p4, p5) end

---@class KSR.jsonrpcs
KSR.jsonrpcs = {}

---@return integer # Kamailio return code: > 0 success, < 0 failure, 0 stops the script. Every number is true in Lua: compare it.
function KSR.jsonrpcs.dispatch() end

---@param p1 string
---@return integer # Kamailio return code: > 0 success, < 0 failure, 0 stops the script. Every number is true in Lua: compare it.
function KSR.jsonrpcs.exec(p1) end

---@param p1 string
---@return integer # Kamailio return code: > 0 success, < 0 failure, 0 stops the script. Every number is true in Lua: compare it.
function KSR.jsonrpcs.execx(p1) end

---@return string|integer|nil
function KSR.jsonrpcs.response() end

---@class KSR.kex
KSR.kex = {}

---@param p1 integer
---@return integer # Kamailio return code: > 0 success, < 0 failure, 0 stops the script. Every number is true in Lua: compare it.
function KSR.kex.setdebug(p1) end

---@return integer # Kamailio return code: > 0 success, < 0 failure, 0 stops the script. Every number is true in Lua: compare it.
function KSR.kex.resetdebug() end

---@class KSR.kx
KSR.kx = {}

---@return string|integer|nil
function KSR.kx.get_ruri() end

---@return string|integer|nil
function KSR.kx.get_ruser() end

---@return string|integer|nil
function KSR.kx.getw_ruser() end

---@return string|integer|nil
function KSR.kx.gete_ruser() end

---@return string|integer|nil
function KSR.kx.get_rhost() end

---@return string|integer|nil
function KSR.kx.getw_rhost() end

---@return string|integer|nil
function KSR.kx.gete_rhost() end

---@return string|integer|nil
function KSR.kx.get_ouri() end

---@return string|integer|nil
function KSR.kx.get_furi() end

---@return string|integer|nil
function KSR.kx.get_fuser() end

---@return string|integer|nil
function KSR.kx.getw_fuser() end

---@return string|integer|nil
function KSR.kx.gete_fuser() end

---@return string|integer|nil
function KSR.kx.get_fhost() end

---@return string|integer|nil
function KSR.kx.getw_fhost() end

---@return string|integer|nil
function KSR.kx.gete_fhost() end

---@return string|integer|nil
function KSR.kx.get_turi() end

---@return string|integer|nil
function KSR.kx.get_tuser() end

---@return string|integer|nil
function KSR.kx.gete_tuser() end

---@return string|integer|nil
function KSR.kx.getw_tuser() end

---@return string|integer|nil
function KSR.kx.get_thost() end

---@return string|integer|nil
function KSR.kx.gete_thost() end

---@return string|integer|nil
function KSR.kx.getw_thost() end

---@return string|integer|nil
function KSR.kx.get_duri() end

---@return string|integer|nil
function KSR.kx.gete_duri() end

---@return string|integer|nil
function KSR.kx.getw_duri() end

---@return string|integer|nil
function KSR.kx.get_cturi() end

---@return string|integer|nil
function KSR.kx.gete_cturi() end

---@return string|integer|nil
function KSR.kx.getw_cturi() end

---@return string|integer|nil
function KSR.kx.get_nhuri() end

---@return string|integer|nil
function KSR.kx.get_srcuri() end

---@return string|integer|nil
function KSR.kx.get_srcaddr_sock() end

---@return string|integer|nil
function KSR.kx.get_ua() end

---@return string|integer|nil
function KSR.kx.gete_ua() end

---@return string|integer|nil
function KSR.kx.getw_ua() end

---@return string|integer|nil
function KSR.kx.get_srcip() end

---@return string|integer|nil
function KSR.kx.get_srcport() end

---@return string|integer|nil
function KSR.kx.get_send_sock() end

---@return string|integer|nil
function KSR.kx.get_send_sock_name() end

---@return integer # Kamailio return code: > 0 success, < 0 failure, 0 stops the script. Every number is true in Lua: compare it.
function KSR.kx.get_send_sock_port() end

---@return string|integer|nil
function KSR.kx.get_rcvip() end

---@return string|integer|nil
function KSR.kx.get_rcv_sock_name() end

---@return string|integer|nil
function KSR.kx.get_rcvport() end

---@return string|integer|nil
function KSR.kx.get_rcvadvip() end

---@return string|integer|nil
function KSR.kx.get_rcvadvport() end

---@return string|integer|nil
function KSR.kx.get_rcvaddr_sock() end

---@return string|integer|nil
function KSR.kx.get_proto() end

---@return integer # Kamailio return code: > 0 success, < 0 failure, 0 stops the script. Every number is true in Lua: compare it.
function KSR.kx.get_protoid() end

---@return string|integer|nil
function KSR.kx.get_au() end

---@return string|integer|nil
function KSR.kx.getw_au() end

---@return string|integer|nil
function KSR.kx.gete_au() end

---@return string|integer|nil
function KSR.kx.get_method() end

---@return integer # Kamailio return code: > 0 success, < 0 failure, 0 stops the script. Every number is true in Lua: compare it.
function KSR.kx.get_status() end

---@return string|integer|nil
function KSR.kx.gets_status() end

---@return string|integer|nil
function KSR.kx.get_body() end

---@return string|integer|nil
function KSR.kx.getw_body() end

---@return string|integer|nil
function KSR.kx.gete_body() end

---@return integer # Kamailio return code: > 0 success, < 0 failure, 0 stops the script. Every number is true in Lua: compare it.
function KSR.kx.get_bodylen() end

---@return integer # Kamailio return code: > 0 success, < 0 failure, 0 stops the script. Every number is true in Lua: compare it.
function KSR.kx.get_timestamp() end

---@return string|integer|nil
function KSR.kx.get_callid() end

---@return integer # Kamailio return code: > 0 success, < 0 failure, 0 stops the script. Every number is true in Lua: compare it.
function KSR.kx.get_conid() end

---@return string|integer|nil
function KSR.kx.get_msgbuf() end

---@return integer # Kamailio return code: > 0 success, < 0 failure, 0 stops the script. Every number is true in Lua: compare it.
function KSR.kx.get_msglen() end

---@return integer # Kamailio return code: > 0 success, < 0 failure, 0 stops the script. Every number is true in Lua: compare it.
function KSR.kx.get_msgtype() end

---@param p1 string
---@return string|integer|nil
function KSR.kx.get_def(p1) end

---@param p1 string
---@return integer # Kamailio return code: > 0 success, < 0 failure, 0 stops the script. Every number is true in Lua: compare it.
function KSR.kx.get_defn(p1) end

---@param p1 string
---@return boolean
function KSR.kx.ifdef(p1) end

---@param p1 string
---@return boolean
function KSR.kx.ifndef(p1) end

---@param p1 string
---@return string|integer|nil
function KSR.kx.get_env(p1) end

---@param p1 string
---@return integer # Kamailio return code: > 0 success, < 0 failure, 0 stops the script. Every number is true in Lua: compare it.
function KSR.kx.get_envn(p1) end

---@class KSR.maxfwd
KSR.maxfwd = {}

---@param p1 integer
---@return integer # Kamailio return code: > 0 success, < 0 failure, 0 stops the script. Every number is true in Lua: compare it.
function KSR.maxfwd.process_maxfwd(p1) end

---@param p1 integer
---@return integer # Kamailio return code: > 0 success, < 0 failure, 0 stops the script. Every number is true in Lua: compare it.
function KSR.maxfwd.is_maxfwd_lt(p1) end

---@class KSR.nathelper
KSR.nathelper = {}

---@param p1 integer
---@return integer # Kamailio return code: > 0 success, < 0 failure, 0 stops the script. Every number is true in Lua: compare it.
function KSR.nathelper.nat_uac_test(p1) end

---@return integer # Kamailio return code: > 0 success, < 0 failure, 0 stops the script. Every number is true in Lua: compare it.
function KSR.nathelper.fix_nated_contact() end

---@return integer # Kamailio return code: > 0 success, < 0 failure, 0 stops the script. Every number is true in Lua: compare it.
function KSR.nathelper.fix_nated_register() end

---@return integer # Kamailio return code: > 0 success, < 0 failure, 0 stops the script. Every number is true in Lua: compare it.
function KSR.nathelper.set_contact_alias() end

---@return integer # Kamailio return code: > 0 success, < 0 failure, 0 stops the script. Every number is true in Lua: compare it.
function KSR.nathelper.set_contact_alias_trim() end

---@return integer # Kamailio return code: > 0 success, < 0 failure, 0 stops the script. Every number is true in Lua: compare it.
function KSR.nathelper.handle_ruri_alias() end

---@param p1 integer
---@return integer # Kamailio return code: > 0 success, < 0 failure, 0 stops the script. Every number is true in Lua: compare it.
function KSR.nathelper.handle_ruri_alias_mode(p1) end

---@param p1 string
---@return integer # Kamailio return code: > 0 success, < 0 failure, 0 stops the script. Every number is true in Lua: compare it.
function KSR.nathelper.is_rfc1918(p1) end

---@return integer # Kamailio return code: > 0 success, < 0 failure, 0 stops the script. Every number is true in Lua: compare it.
function KSR.nathelper.add_contact_alias() end

---@param p1 string
---@param p2 string
---@param p3 string
---@return integer # Kamailio return code: > 0 success, < 0 failure, 0 stops the script. Every number is true in Lua: compare it.
function KSR.nathelper.add_contact_alias_addr(p1, p2, p3) end

---@param p1 integer
---@return integer # Kamailio return code: > 0 success, < 0 failure, 0 stops the script. Every number is true in Lua: compare it.
function KSR.nathelper.add_rcv_param(p1) end

---@param p1 integer
---@return integer # Kamailio return code: > 0 success, < 0 failure, 0 stops the script. Every number is true in Lua: compare it.
function KSR.nathelper.fix_nated_sdp(p1) end

---@param p1 integer
---@param p2 string
---@return integer # Kamailio return code: > 0 success, < 0 failure, 0 stops the script. Every number is true in Lua: compare it.
function KSR.nathelper.fix_nated_sdp_ip(p1, p2) end

---@param p1 string
---@return integer # Kamailio return code: > 0 success, < 0 failure, 0 stops the script. Every number is true in Lua: compare it.
function KSR.nathelper.set_alias_to_pv(p1) end

---@class KSR.ndb_redis
KSR.ndb_redis = {}

---@param p1 string
---@param p2 string
---@param p3 string
---@return integer # Kamailio return code: > 0 success, < 0 failure, 0 stops the script. Every number is true in Lua: compare it.
function KSR.ndb_redis.redis_cmd(p1, p2, p3) end

---@param p1 string
---@param p2 string
---@param p3 string
---@param p4 string
---@return integer # Kamailio return code: > 0 success, < 0 failure, 0 stops the script. Every number is true in Lua: compare it.
function KSR.ndb_redis.redis_cmd_p1(p1, p2, p3, p4) end

---@param p1 string
---@param p2 string
---@param p3 string
---@param p4 string
---@param p5 string
---@return integer # Kamailio return code: > 0 success, < 0 failure, 0 stops the script. Every number is true in Lua: compare it.
function KSR.ndb_redis.redis_cmd_p2(p1, p2, p3, p4, p5) end

---@param p1 string
---@param p2 string
---@param p3 string
---@param p4 string
---@param p5 string
---@param p6 string
---@return integer # Kamailio return code: > 0 success, < 0 failure, 0 stops the script. Every number is true in Lua: compare it.
function KSR.ndb_redis.redis_cmd_p3(p1, p2, p3, p4, p5, p6) end

---@param p1 string
---@return integer # Kamailio return code: > 0 success, < 0 failure, 0 stops the script. Every number is true in Lua: compare it.
function KSR.ndb_redis.redis_free(p1) end

---@class KSR.path
KSR.path = {}

---@return integer # Kamailio return code: > 0 success, < 0 failure, 0 stops the script. Every number is true in Lua: compare it.
function KSR.path.add_path() end

---@param p1 string
---@return integer # Kamailio return code: > 0 success, < 0 failure, 0 stops the script. Every number is true in Lua: compare it.
function KSR.path.add_path_user(p1) end

---@param p1 string
---@param p2 string
---@return integer # Kamailio return code: > 0 success, < 0 failure, 0 stops the script. Every number is true in Lua: compare it.
function KSR.path.add_path_user_params(p1, p2) end

---@return integer # Kamailio return code: > 0 success, < 0 failure, 0 stops the script. Every number is true in Lua: compare it.
function KSR.path.add_path_received() end

---@param p1 string
---@return integer # Kamailio return code: > 0 success, < 0 failure, 0 stops the script. Every number is true in Lua: compare it.
function KSR.path.add_path_received_user(p1) end

---@param p1 string
---@param p2 string
---@return integer # Kamailio return code: > 0 success, < 0 failure, 0 stops the script. Every number is true in Lua: compare it.
function KSR.path.add_path_received_user_params(p1, p2) end

---@class KSR.permissions
KSR.permissions = {}

---@param p1 integer
---@return integer # Kamailio return code: > 0 success, < 0 failure, 0 stops the script. Every number is true in Lua: compare it.
function KSR.permissions.allow_source_address(p1) end

---@param p1 integer
---@param p2 string
---@param p3 integer
---@return integer # Kamailio return code: > 0 success, < 0 failure, 0 stops the script. Every number is true in Lua: compare it.
function KSR.permissions.allow_address(p1, p2, p3) end

---@return integer # Kamailio return code: > 0 success, < 0 failure, 0 stops the script. Every number is true in Lua: compare it.
function KSR.permissions.allow_source_address_group() end

---@param p1 string
---@param p2 integer
---@return integer # Kamailio return code: > 0 success, < 0 failure, 0 stops the script. Every number is true in Lua: compare it.
function KSR.permissions.allow_address_group(p1, p2) end

---@return integer # Kamailio return code: > 0 success, < 0 failure, 0 stops the script. Every number is true in Lua: compare it.
function KSR.permissions.allow_trusted() end

---@class KSR.pike
KSR.pike = {}

---@return integer # Kamailio return code: > 0 success, < 0 failure, 0 stops the script. Every number is true in Lua: compare it.
function KSR.pike.pike_check_req() end

---@param p1 string
---@return integer # Kamailio return code: > 0 success, < 0 failure, 0 stops the script. Every number is true in Lua: compare it.
function KSR.pike.pike_check_ip(p1) end

---@class KSR.pv
KSR.pv = {}

---@param p1 string
---@return string|integer|nil
function KSR.pv.get(p1) end

---@param p1 string
---@return string|integer|nil
function KSR.pv.getw(p1) end

---@param p1 string
---@return string|integer|nil
function KSR.pv.gete(p1) end

---@param p1 string
---@return integer # Kamailio return code: > 0 success, < 0 failure, 0 stops the script. Every number is true in Lua: compare it.
function KSR.pv.geti(p1) end

---@param p1 string
---@param p2 integer
---@return string|integer|nil
function KSR.pv.getvn(p1, p2) end

---@param p1 string
---@param p2 string
---@return string|integer|nil
function KSR.pv.getvs(p1, p2) end

---@param p1 string
---@param p2 integer
---@return boolean
function KSR.pv.seti(p1, p2) end

---@param p1 string
---@param p2 string
---@return boolean
function KSR.pv.sets(p1, p2) end

---@param p1 string
---@return boolean
function KSR.pv.unset(p1) end

---@param p1 string
---@return boolean
function KSR.pv.is_null(p1) end

---@class KSR.pvx
KSR.pvx = {}

---@return integer # Kamailio return code: > 0 success, < 0 failure, 0 stops the script. Every number is true in Lua: compare it.
function KSR.pvx.sbranch_set_ruri() end

---@return integer # Kamailio return code: > 0 success, < 0 failure, 0 stops the script. Every number is true in Lua: compare it.
function KSR.pvx.sbranch_append() end

---@return integer # Kamailio return code: > 0 success, < 0 failure, 0 stops the script. Every number is true in Lua: compare it.
function KSR.pvx.sbranch_reset() end

---@param p1 string
---@param p2 integer
---@return integer # Kamailio return code: > 0 success, < 0 failure, 0 stops the script. Every number is true in Lua: compare it.
function KSR.pvx.var_seti(p1, p2) end

---@param p1 string
---@param p2 string
---@return integer # Kamailio return code: > 0 success, < 0 failure, 0 stops the script. Every number is true in Lua: compare it.
function KSR.pvx.var_sets(p1, p2) end

---@param p1 string
---@return string|integer|nil
function KSR.pvx.var_get(p1) end

---@param p1 string
---@param p2 integer
---@return integer # Kamailio return code: > 0 success, < 0 failure, 0 stops the script. Every number is true in Lua: compare it.
function KSR.pvx.shv_seti(p1, p2) end

---@param p1 string
---@param p2 string
---@return integer # Kamailio return code: > 0 success, < 0 failure, 0 stops the script. Every number is true in Lua: compare it.
function KSR.pvx.shv_sets(p1, p2) end

---@param p1 string
---@return string|integer|nil
function KSR.pvx.shv_get(p1) end

---@param p1 string
---@param p2 string
---@return integer # Kamailio return code: > 0 success, < 0 failure, 0 stops the script. Every number is true in Lua: compare it.
function KSR.pvx.pv_var_to_xavp(p1, p2) end

---@param p1 string
---@return integer # Kamailio return code: > 0 success, < 0 failure, 0 stops the script. Every number is true in Lua: compare it.
function KSR.pvx.pv_xavp_to_var(p1) end

---@return integer # Kamailio return code: > 0 success, < 0 failure, 0 stops the script. Every number is true in Lua: compare it.
function KSR.pvx.pv_xavp_print() end

---@return integer # Kamailio return code: > 0 success, < 0 failure, 0 stops the script. Every number is true in Lua: compare it.
function KSR.pvx.pv_xavu_print() end

---@return integer # Kamailio return code: > 0 success, < 0 failure, 0 stops the script. Every number is true in Lua: compare it.
function KSR.pvx.pv_xavi_print() end

---@param p1 string
---@param p2 string
---@return integer # Kamailio return code: > 0 success, < 0 failure, 0 stops the script. Every number is true in Lua: compare it.
function KSR.pvx.xavp_params_explode(p1, p2) end

---@param p1 string
---@param p2 string
---@return integer # Kamailio return code: > 0 success, < 0 failure, 0 stops the script. Every number is true in Lua: compare it.
function KSR.pvx.xavp_params_implode(p1, p2) end

---@param p1 string
---@param p2 string
---@return integer # Kamailio return code: > 0 success, < 0 failure, 0 stops the script. Every number is true in Lua: compare it.
function KSR.pvx.xavu_params_explode(p1, p2) end

---@param p1 string
---@param p2 string
---@return integer # Kamailio return code: > 0 success, < 0 failure, 0 stops the script. Every number is true in Lua: compare it.
function KSR.pvx.xavu_params_implode(p1, p2) end

---@param p1 string
---@param p2 string
---@param p3 string
---@param p4 string
---@return integer # Kamailio return code: > 0 success, < 0 failure, 0 stops the script. Every number is true in Lua: compare it.
function KSR.pvx.xavp_slist_explode(p1, p2, p3, p4) end

---@param p1 string
---@param p2 integer
---@return integer # Kamailio return code: > 0 success, < 0 failure, 0 stops the script. Every number is true in Lua: compare it.
function KSR.pvx.xavp_seti(p1, p2) end

---@param p1 string
---@param p2 string
---@return integer # Kamailio return code: > 0 success, < 0 failure, 0 stops the script. Every number is true in Lua: compare it.
function KSR.pvx.xavp_sets(p1, p2) end

---@param p1 string
---@return string|integer|nil
function KSR.pvx.xavp_get(p1) end

---@param p1 string
---@return string|integer|nil
function KSR.pvx.xavp_gete(p1) end

---@param p1 string
---@return string|integer|nil
function KSR.pvx.xavp_getw(p1) end

---@param p1 string
---@return string|integer|nil
function KSR.pvx.xavp_getd(p1) end

---@param p1 string
---@param p2 integer
---@return string|integer|nil
function KSR.pvx.xavp_getd_p1(p1, p2) end

---@param p1 string
---@param p2 integer
---@return string|integer|nil
function KSR.pvx.xavp_get_keys(p1, p2) end

---@param p1 string
---@return integer # Kamailio return code: > 0 success, < 0 failure, 0 stops the script. Every number is true in Lua: compare it.
function KSR.pvx.xavp_rm(p1) end

---@param p1 string
---@return integer # Kamailio return code: > 0 success, < 0 failure, 0 stops the script. Every number is true in Lua: compare it.
function KSR.pvx.xavp_is_null(p1) end

---@param p1 string
---@param p2 string
---@param p3 integer
---@return integer # Kamailio return code: > 0 success, < 0 failure, 0 stops the script. Every number is true in Lua: compare it.
function KSR.pvx.xavp_child_seti(p1, p2, p3) end

---@param p1 string
---@param p2 string
---@param p3 string
---@return integer # Kamailio return code: > 0 success, < 0 failure, 0 stops the script. Every number is true in Lua: compare it.
function KSR.pvx.xavp_child_sets(p1, p2, p3) end

---@param p1 string
---@param p2 string
---@return integer # Kamailio return code: > 0 success, < 0 failure, 0 stops the script. Every number is true in Lua: compare it.
function KSR.pvx.xavp_child_rm(p1, p2) end

---@param p1 string
---@param p2 string
---@return integer # Kamailio return code: > 0 success, < 0 failure, 0 stops the script. Every number is true in Lua: compare it.
function KSR.pvx.xavp_child_is_null(p1, p2) end

---@param p1 string
---@param p2 string
---@return string|integer|nil
function KSR.pvx.xavp_child_get(p1, p2) end

---@param p1 string
---@param p2 string
---@return string|integer|nil
function KSR.pvx.xavp_child_gete(p1, p2) end

---@param p1 string
---@param p2 string
---@return string|integer|nil
function KSR.pvx.xavp_child_getw(p1, p2) end

---@param p1 string
---@param p2 integer
---@return integer # Kamailio return code: > 0 success, < 0 failure, 0 stops the script. Every number is true in Lua: compare it.
function KSR.pvx.xavu_seti(p1, p2) end

---@param p1 string
---@param p2 string
---@return integer # Kamailio return code: > 0 success, < 0 failure, 0 stops the script. Every number is true in Lua: compare it.
function KSR.pvx.xavu_sets(p1, p2) end

---@param p1 string
---@return string|integer|nil
function KSR.pvx.xavu_get(p1) end

---@param p1 string
---@return string|integer|nil
function KSR.pvx.xavu_gete(p1) end

---@param p1 string
---@return string|integer|nil
function KSR.pvx.xavu_getw(p1) end

---@param p1 string
---@return integer # Kamailio return code: > 0 success, < 0 failure, 0 stops the script. Every number is true in Lua: compare it.
function KSR.pvx.xavu_rm(p1) end

---@param p1 string
---@return integer # Kamailio return code: > 0 success, < 0 failure, 0 stops the script. Every number is true in Lua: compare it.
function KSR.pvx.xavu_is_null(p1) end

---@param p1 string
---@param p2 string
---@param p3 integer
---@return integer # Kamailio return code: > 0 success, < 0 failure, 0 stops the script. Every number is true in Lua: compare it.
function KSR.pvx.xavu_child_seti(p1, p2, p3) end

---@param p1 string
---@param p2 string
---@param p3 string
---@return integer # Kamailio return code: > 0 success, < 0 failure, 0 stops the script. Every number is true in Lua: compare it.
function KSR.pvx.xavu_child_sets(p1, p2, p3) end

---@param p1 string
---@param p2 string
---@return integer # Kamailio return code: > 0 success, < 0 failure, 0 stops the script. Every number is true in Lua: compare it.
function KSR.pvx.xavu_child_rm(p1, p2) end

---@param p1 string
---@param p2 string
---@return integer # Kamailio return code: > 0 success, < 0 failure, 0 stops the script. Every number is true in Lua: compare it.
function KSR.pvx.xavu_child_is_null(p1, p2) end

---@param p1 string
---@param p2 string
---@return string|integer|nil
function KSR.pvx.xavu_child_get(p1, p2) end

---@param p1 string
---@param p2 string
---@return string|integer|nil
function KSR.pvx.xavu_child_gete(p1, p2) end

---@param p1 string
---@param p2 string
---@return string|integer|nil
function KSR.pvx.xavu_child_getw(p1, p2) end

---@param p1 string
---@param p2 integer
---@return integer # Kamailio return code: > 0 success, < 0 failure, 0 stops the script. Every number is true in Lua: compare it.
function KSR.pvx.xavi_seti(p1, p2) end

---@param p1 string
---@param p2 string
---@return integer # Kamailio return code: > 0 success, < 0 failure, 0 stops the script. Every number is true in Lua: compare it.
function KSR.pvx.xavi_sets(p1, p2) end

---@param p1 string
---@return string|integer|nil
function KSR.pvx.xavi_get(p1) end

---@param p1 string
---@return string|integer|nil
function KSR.pvx.xavi_gete(p1) end

---@param p1 string
---@return string|integer|nil
function KSR.pvx.xavi_getw(p1) end

---@param p1 string
---@return string|integer|nil
function KSR.pvx.xavi_getd(p1) end

---@param p1 string
---@param p2 integer
---@return string|integer|nil
function KSR.pvx.xavi_getd_p1(p1, p2) end

---@param p1 string
---@param p2 integer
---@return string|integer|nil
function KSR.pvx.xavi_get_keys(p1, p2) end

---@param p1 string
---@return integer # Kamailio return code: > 0 success, < 0 failure, 0 stops the script. Every number is true in Lua: compare it.
function KSR.pvx.xavi_rm(p1) end

---@param p1 string
---@return integer # Kamailio return code: > 0 success, < 0 failure, 0 stops the script. Every number is true in Lua: compare it.
function KSR.pvx.xavi_is_null(p1) end

---@param p1 string
---@param p2 string
---@param p3 integer
---@return integer # Kamailio return code: > 0 success, < 0 failure, 0 stops the script. Every number is true in Lua: compare it.
function KSR.pvx.xavi_child_seti(p1, p2, p3) end

---@param p1 string
---@param p2 string
---@param p3 string
---@return integer # Kamailio return code: > 0 success, < 0 failure, 0 stops the script. Every number is true in Lua: compare it.
function KSR.pvx.xavi_child_sets(p1, p2, p3) end

---@param p1 string
---@param p2 string
---@return integer # Kamailio return code: > 0 success, < 0 failure, 0 stops the script. Every number is true in Lua: compare it.
function KSR.pvx.xavi_child_rm(p1, p2) end

---@param p1 string
---@param p2 string
---@return integer # Kamailio return code: > 0 success, < 0 failure, 0 stops the script. Every number is true in Lua: compare it.
function KSR.pvx.xavi_child_is_null(p1, p2) end

---@param p1 string
---@param p2 string
---@return string|integer|nil
function KSR.pvx.xavi_child_get(p1, p2) end

---@param p1 string
---@param p2 string
---@return string|integer|nil
function KSR.pvx.xavi_child_gete(p1, p2) end

---@param p1 string
---@param p2 string
---@return string|integer|nil
function KSR.pvx.xavi_child_getw(p1, p2) end

---@param p1 string
---@param p2 string
---@return integer # Kamailio return code: > 0 success, < 0 failure, 0 stops the script. Every number is true in Lua: compare it.
function KSR.pvx.evalx(p1, p2) end

---@param p1 string
---@param p2 integer
---@return integer # Kamailio return code: > 0 success, < 0 failure, 0 stops the script. Every number is true in Lua: compare it.
function KSR.pvx.avp_seti(p1, p2) end

---@param p1 string
---@param p2 string
---@return integer # Kamailio return code: > 0 success, < 0 failure, 0 stops the script. Every number is true in Lua: compare it.
function KSR.pvx.avp_sets(p1, p2) end

---@param p1 string
---@return string|integer|nil
function KSR.pvx.avp_get(p1) end

---@param p1 string
---@return string|integer|nil
function KSR.pvx.avp_gete(p1) end

---@param p1 string
---@return string|integer|nil
function KSR.pvx.avp_getw(p1) end

---@param p1 string
---@return integer # Kamailio return code: > 0 success, < 0 failure, 0 stops the script. Every number is true in Lua: compare it.
function KSR.pvx.avp_rm(p1) end

---@param p1 string
---@return integer # Kamailio return code: > 0 success, < 0 failure, 0 stops the script. Every number is true in Lua: compare it.
function KSR.pvx.avp_is_null(p1) end

---@param p1 string
---@param p2 integer
---@param p3 string
---@return integer # Kamailio return code: > 0 success, < 0 failure, 0 stops the script. Every number is true in Lua: compare it.
function KSR.pvx.xavp_copy(p1, p2, p3) end

---@param p1 string
---@param p2 integer
---@param p3 string
---@param p4 integer
---@return integer # Kamailio return code: > 0 success, < 0 failure, 0 stops the script. Every number is true in Lua: compare it.
function KSR.pvx.xavp_copy_dst(p1, p2, p3, p4) end

---@class KSR.registrar
KSR.registrar = {}

---@param p1 string
---@param p2 integer
---@return integer # Kamailio return code: > 0 success, < 0 failure, 0 stops the script. Every number is true in Lua: compare it.
function KSR.registrar.save(p1, p2) end

---@param p1 string
---@param p2 integer
---@param p3 string
---@return integer # Kamailio return code: > 0 success, < 0 failure, 0 stops the script. Every number is true in Lua: compare it.
function KSR.registrar.save_uri(p1, p2, p3) end

---@param p1 string
---@return integer # Kamailio return code: > 0 success, < 0 failure, 0 stops the script. Every number is true in Lua: compare it.
function KSR.registrar.lookup(p1) end

---@param p1 string
---@param p2 string
---@return integer # Kamailio return code: > 0 success, < 0 failure, 0 stops the script. Every number is true in Lua: compare it.
function KSR.registrar.lookup_uri(p1, p2) end

---@param p1 string
---@param p2 string
---@return integer # Kamailio return code: > 0 success, < 0 failure, 0 stops the script. Every number is true in Lua: compare it.
function KSR.registrar.lookup_to_dset(p1, p2) end

---@param p1 string
---@return integer # Kamailio return code: > 0 success, < 0 failure, 0 stops the script. Every number is true in Lua: compare it.
function KSR.registrar.lookup_branches(p1) end

---@param p1 string
---@return integer # Kamailio return code: > 0 success, < 0 failure, 0 stops the script. Every number is true in Lua: compare it.
function KSR.registrar.registered(p1) end

---@param p1 string
---@param p2 string
---@return integer # Kamailio return code: > 0 success, < 0 failure, 0 stops the script. Every number is true in Lua: compare it.
function KSR.registrar.registered_uri(p1, p2) end

---@param p1 string
---@param p2 string
---@param p3 integer
---@return integer # Kamailio return code: > 0 success, < 0 failure, 0 stops the script. Every number is true in Lua: compare it.
function KSR.registrar.registered_flags(p1, p2, p3) end

---@param p1 string
---@param p2 string
---@param p3 integer
---@param p4 integer
---@return integer # Kamailio return code: > 0 success, < 0 failure, 0 stops the script. Every number is true in Lua: compare it.
function KSR.registrar.registered_action(p1, p2, p3, p4) end

---@param p1 string
---@return integer # Kamailio return code: > 0 success, < 0 failure, 0 stops the script. Every number is true in Lua: compare it.
function KSR.registrar.set_q_override(p1) end

---@param p1 string
---@return integer # Kamailio return code: > 0 success, < 0 failure, 0 stops the script. Every number is true in Lua: compare it.
function KSR.registrar.add_sock_hdr(p1) end

---@param p1 string
---@param p2 string
---@return integer # Kamailio return code: > 0 success, < 0 failure, 0 stops the script. Every number is true in Lua: compare it.
function KSR.registrar.unregister(p1, p2) end

---@param p1 string
---@param p2 string
---@param p3 string
---@return integer # Kamailio return code: > 0 success, < 0 failure, 0 stops the script. Every number is true in Lua: compare it.
function KSR.registrar.unregister_ruid(p1, p2, p3) end

---@param p1 string
---@param p2 string
---@param p3 string
---@return integer # Kamailio return code: > 0 success, < 0 failure, 0 stops the script. Every number is true in Lua: compare it.
function KSR.registrar.reg_fetch_contacts(p1, p2, p3) end

---@param p1 string
---@return integer # Kamailio return code: > 0 success, < 0 failure, 0 stops the script. Every number is true in Lua: compare it.
function KSR.registrar.reg_free_contacts(p1) end

---@return integer # Kamailio return code: > 0 success, < 0 failure, 0 stops the script. Every number is true in Lua: compare it.
function KSR.registrar.reg_send_reply() end

---@class KSR.rr
KSR.rr = {}

---@return integer # Kamailio return code: > 0 success, < 0 failure, 0 stops the script. Every number is true in Lua: compare it.
function KSR.rr.record_route() end

---@param p1 string
---@return integer # Kamailio return code: > 0 success, < 0 failure, 0 stops the script. Every number is true in Lua: compare it.
function KSR.rr.record_route_params(p1) end

---@return integer # Kamailio return code: > 0 success, < 0 failure, 0 stops the script. Every number is true in Lua: compare it.
function KSR.rr.loose_route() end

---@return integer # Kamailio return code: > 0 success, < 0 failure, 0 stops the script. Every number is true in Lua: compare it.
function KSR.rr.loose_route_preloaded() end

---@param p1 integer
---@return integer # Kamailio return code: > 0 success, < 0 failure, 0 stops the script. Every number is true in Lua: compare it.
function KSR.rr.loose_route_mode(p1) end

---@return integer # Kamailio return code: > 0 success, < 0 failure, 0 stops the script. Every number is true in Lua: compare it.
function KSR.rr.remove_record_route() end

---@param p1 string
---@return integer # Kamailio return code: > 0 success, < 0 failure, 0 stops the script. Every number is true in Lua: compare it.
function KSR.rr.add_rr_param(p1) end

---@param p1 string
---@return integer # Kamailio return code: > 0 success, < 0 failure, 0 stops the script. Every number is true in Lua: compare it.
function KSR.rr.check_route_param(p1) end

---@param p1 string
---@return integer # Kamailio return code: > 0 success, < 0 failure, 0 stops the script. Every number is true in Lua: compare it.
function KSR.rr.is_direction(p1) end

---@param p1 string
---@return integer # Kamailio return code: > 0 success, < 0 failure, 0 stops the script. Every number is true in Lua: compare it.
function KSR.rr.record_route_preset_one(p1) end

---@param p1 string
---@param p2 string
---@return integer # Kamailio return code: > 0 success, < 0 failure, 0 stops the script. Every number is true in Lua: compare it.
function KSR.rr.record_route_preset(p1, p2) end

---@param p1 string
---@return integer # Kamailio return code: > 0 success, < 0 failure, 0 stops the script. Every number is true in Lua: compare it.
function KSR.rr.record_route_advertised_address(p1) end

---@return integer # Kamailio return code: > 0 success, < 0 failure, 0 stops the script. Every number is true in Lua: compare it.
function KSR.rr.next_hop_route() end

---@class KSR.rtpengine
KSR.rtpengine = {}

---@return integer # Kamailio return code: > 0 success, < 0 failure, 0 stops the script. Every number is true in Lua: compare it.
function KSR.rtpengine.rtpengine_manage0() end

---@param p1 string
---@return integer # Kamailio return code: > 0 success, < 0 failure, 0 stops the script. Every number is true in Lua: compare it.
function KSR.rtpengine.rtpengine_manage(p1) end

---@return integer # Kamailio return code: > 0 success, < 0 failure, 0 stops the script. Every number is true in Lua: compare it.
function KSR.rtpengine.rtpengine_offer0() end

---@param p1 string
---@return integer # Kamailio return code: > 0 success, < 0 failure, 0 stops the script. Every number is true in Lua: compare it.
function KSR.rtpengine.rtpengine_offer(p1) end

---@return integer # Kamailio return code: > 0 success, < 0 failure, 0 stops the script. Every number is true in Lua: compare it.
function KSR.rtpengine.rtpengine_answer0() end

---@param p1 string
---@return integer # Kamailio return code: > 0 success, < 0 failure, 0 stops the script. Every number is true in Lua: compare it.
function KSR.rtpengine.rtpengine_answer(p1) end

---@return integer # Kamailio return code: > 0 success, < 0 failure, 0 stops the script. Every number is true in Lua: compare it.
function KSR.rtpengine.rtpengine_delete0() end

---@param p1 string
---@return integer # Kamailio return code: > 0 success, < 0 failure, 0 stops the script. Every number is true in Lua: compare it.
function KSR.rtpengine.rtpengine_delete(p1) end

---@return integer # Kamailio return code: > 0 success, < 0 failure, 0 stops the script. Every number is true in Lua: compare it.
function KSR.rtpengine.start_recording() end

---@return integer # Kamailio return code: > 0 success, < 0 failure, 0 stops the script. Every number is true in Lua: compare it.
function KSR.rtpengine.stop_recording() end

---@return integer # Kamailio return code: > 0 success, < 0 failure, 0 stops the script. Every number is true in Lua: compare it.
function KSR.rtpengine.block_media0() end

---@param p1 string
---@return integer # Kamailio return code: > 0 success, < 0 failure, 0 stops the script. Every number is true in Lua: compare it.
function KSR.rtpengine.block_media(p1) end

---@return integer # Kamailio return code: > 0 success, < 0 failure, 0 stops the script. Every number is true in Lua: compare it.
function KSR.rtpengine.unblock_media0() end

---@param p1 string
---@return integer # Kamailio return code: > 0 success, < 0 failure, 0 stops the script. Every number is true in Lua: compare it.
function KSR.rtpengine.unblock_media(p1) end

---@return integer # Kamailio return code: > 0 success, < 0 failure, 0 stops the script. Every number is true in Lua: compare it.
function KSR.rtpengine.silence_media0() end

---@param p1 string
---@return integer # Kamailio return code: > 0 success, < 0 failure, 0 stops the script. Every number is true in Lua: compare it.
function KSR.rtpengine.silence_media(p1) end

---@return integer # Kamailio return code: > 0 success, < 0 failure, 0 stops the script. Every number is true in Lua: compare it.
function KSR.rtpengine.unsilence_media0() end

---@param p1 string
---@return integer # Kamailio return code: > 0 success, < 0 failure, 0 stops the script. Every number is true in Lua: compare it.
function KSR.rtpengine.unsilence_media(p1) end

---@return integer # Kamailio return code: > 0 success, < 0 failure, 0 stops the script. Every number is true in Lua: compare it.
function KSR.rtpengine.block_dtmf0() end

---@param p1 string
---@return integer # Kamailio return code: > 0 success, < 0 failure, 0 stops the script. Every number is true in Lua: compare it.
function KSR.rtpengine.block_dtmf(p1) end

---@return integer # Kamailio return code: > 0 success, < 0 failure, 0 stops the script. Every number is true in Lua: compare it.
function KSR.rtpengine.unblock_dtmf0() end

---@param p1 string
---@return integer # Kamailio return code: > 0 success, < 0 failure, 0 stops the script. Every number is true in Lua: compare it.
function KSR.rtpengine.unblock_dtmf(p1) end

---@param p1 string
---@return integer # Kamailio return code: > 0 success, < 0 failure, 0 stops the script. Every number is true in Lua: compare it.
function KSR.rtpengine.play_media(p1) end

---@return integer # Kamailio return code: > 0 success, < 0 failure, 0 stops the script. Every number is true in Lua: compare it.
function KSR.rtpengine.stop_media0() end

---@param p1 string
---@return integer # Kamailio return code: > 0 success, < 0 failure, 0 stops the script. Every number is true in Lua: compare it.
function KSR.rtpengine.stop_media(p1) end

---@param p1 integer
---@return integer # Kamailio return code: > 0 success, < 0 failure, 0 stops the script. Every number is true in Lua: compare it.
function KSR.rtpengine.set_rtpengine_set(p1) end

---@param p1 integer
---@param p2 integer
---@return integer # Kamailio return code: > 0 success, < 0 failure, 0 stops the script. Every number is true in Lua: compare it.
function KSR.rtpengine.set_rtpengine_set2(p1, p2) end

---@return integer # Kamailio return code: > 0 success, < 0 failure, 0 stops the script. Every number is true in Lua: compare it.
function KSR.rtpengine.rtpengine_query0() end

---@param p1 string
---@return integer # Kamailio return code: > 0 success, < 0 failure, 0 stops the script. Every number is true in Lua: compare it.
function KSR.rtpengine.rtpengine_query(p1) end

---@param p1 string
---@param p2 string
---@return integer # Kamailio return code: > 0 success, < 0 failure, 0 stops the script. Every number is true in Lua: compare it.
function KSR.rtpengine.rtpengine_query_v(p1, p2) end

---@class KSR.sanity
KSR.sanity = {}

---@param p1 integer
---@param p2 integer
---@return integer # Kamailio return code: > 0 success, < 0 failure, 0 stops the script. Every number is true in Lua: compare it.
function KSR.sanity.sanity_check(p1, p2) end

---@return integer # Kamailio return code: > 0 success, < 0 failure, 0 stops the script. Every number is true in Lua: compare it.
function KSR.sanity.sanity_check_defaults() end

---@return integer # Kamailio return code: > 0 success, < 0 failure, 0 stops the script. Every number is true in Lua: compare it.
function KSR.sanity.sanity_reply() end

---@class KSR.sdpops
KSR.sdpops = {}

---@param p1 string
---@param p2 string
---@return integer # Kamailio return code: > 0 success, < 0 failure, 0 stops the script. Every number is true in Lua: compare it.
function KSR.sdpops.remove_codecs_by_name(p1, p2) end

---@param p1 string
---@param p2 string
---@return integer # Kamailio return code: > 0 success, < 0 failure, 0 stops the script. Every number is true in Lua: compare it.
function KSR.sdpops.remove_codecs_by_id(p1, p2) end

---@param p1 string
---@param p2 string
---@return integer # Kamailio return code: > 0 success, < 0 failure, 0 stops the script. Every number is true in Lua: compare it.
function KSR.sdpops.keep_codecs_by_name(p1, p2) end

---@param p1 string
---@param p2 string
---@return integer # Kamailio return code: > 0 success, < 0 failure, 0 stops the script. Every number is true in Lua: compare it.
function KSR.sdpops.keep_codecs_by_id(p1, p2) end

---@param p1 string
---@param p2 string
---@return integer # Kamailio return code: > 0 success, < 0 failure, 0 stops the script. Every number is true in Lua: compare it.
function KSR.sdpops.remove_line_by_prefix(p1, p2) end

---@param p1 string
---@return integer # Kamailio return code: > 0 success, < 0 failure, 0 stops the script. Every number is true in Lua: compare it.
function KSR.sdpops.remove_media(p1) end

---@return integer # Kamailio return code: > 0 success, < 0 failure, 0 stops the script. Every number is true in Lua: compare it.
function KSR.sdpops.sdp_content() end

---@param p1 integer
---@return integer # Kamailio return code: > 0 success, < 0 failure, 0 stops the script. Every number is true in Lua: compare it.
function KSR.sdpops.sdp_content_flags(p1) end

---@return integer # Kamailio return code: > 0 success, < 0 failure, 0 stops the script. Every number is true in Lua: compare it.
function KSR.sdpops.sdp_with_ice() end

---@param p1 string
---@return integer # Kamailio return code: > 0 success, < 0 failure, 0 stops the script. Every number is true in Lua: compare it.
function KSR.sdpops.sdp_with_media(p1) end

---@param p1 string
---@return integer # Kamailio return code: > 0 success, < 0 failure, 0 stops the script. Every number is true in Lua: compare it.
function KSR.sdpops.sdp_with_active_media(p1) end

---@param p1 string
---@return integer # Kamailio return code: > 0 success, < 0 failure, 0 stops the script. Every number is true in Lua: compare it.
function KSR.sdpops.sdp_with_codecs_by_id(p1) end

---@param p1 string
---@return integer # Kamailio return code: > 0 success, < 0 failure, 0 stops the script. Every number is true in Lua: compare it.
function KSR.sdpops.sdp_with_codecs_by_name(p1) end

---@param p1 string
---@return integer # Kamailio return code: > 0 success, < 0 failure, 0 stops the script. Every number is true in Lua: compare it.
function KSR.sdpops.sdp_get(p1) end

---@param p1 string
---@return integer # Kamailio return code: > 0 success, < 0 failure, 0 stops the script. Every number is true in Lua: compare it.
function KSR.sdpops.sdp_transport(p1) end

---@param p1 string
---@return integer # Kamailio return code: > 0 success, < 0 failure, 0 stops the script. Every number is true in Lua: compare it.
function KSR.sdpops.sdp_with_transport(p1) end

---@param p1 string
---@return integer # Kamailio return code: > 0 success, < 0 failure, 0 stops the script. Every number is true in Lua: compare it.
function KSR.sdpops.sdp_with_transport_like(p1) end

---@param p1 string
---@param p2 string
---@return integer # Kamailio return code: > 0 success, < 0 failure, 0 stops the script. Every number is true in Lua: compare it.
function KSR.sdpops.sdp_get_line_startswith(p1, p2) end

---@param p1 integer
---@return integer # Kamailio return code: > 0 success, < 0 failure, 0 stops the script. Every number is true in Lua: compare it.
function KSR.sdpops.sdp_print(p1) end

---@class KSR.sipjson
KSR.sipjson = {}

---@param p1 string
---@param p2 string
---@return integer # Kamailio return code: > 0 success, < 0 failure, 0 stops the script. Every number is true in Lua: compare it.
function KSR.sipjson.sj_serialize(p1, p2) end

---@class KSR.siptrace
KSR.siptrace = {}

---@return integer # Kamailio return code: > 0 success, < 0 failure, 0 stops the script. Every number is true in Lua: compare it.
function KSR.siptrace.sip_trace() end

---@param p1 string
---@return integer # Kamailio return code: > 0 success, < 0 failure, 0 stops the script. Every number is true in Lua: compare it.
function KSR.siptrace.sip_trace_dst(p1) end

---@param p1 string
---@param p2 string
---@return integer # Kamailio return code: > 0 success, < 0 failure, 0 stops the script. Every number is true in Lua: compare it.
function KSR.siptrace.sip_trace_dst_cid(p1, p2) end

---@param p1 string
---@param p2 string
---@param p3 string
---@return integer # Kamailio return code: > 0 success, < 0 failure, 0 stops the script. Every number is true in Lua: compare it.
function KSR.siptrace.sip_trace_dst_cid_type(p1, p2, p3) end

---@param p1 string
---@return integer # Kamailio return code: > 0 success, < 0 failure, 0 stops the script. Every number is true in Lua: compare it.
function KSR.siptrace.hlog(p1) end

---@param p1 string
---@param p2 string
---@return integer # Kamailio return code: > 0 success, < 0 failure, 0 stops the script. Every number is true in Lua: compare it.
function KSR.siptrace.hlog_cid(p1, p2) end

---@param p1 string
---@return integer # Kamailio return code: > 0 success, < 0 failure, 0 stops the script. Every number is true in Lua: compare it.
function KSR.siptrace.sip_trace_mode(p1) end

---@class KSR.siputils
KSR.siputils = {}

---@return integer # Kamailio return code: > 0 success, < 0 failure, 0 stops the script. Every number is true in Lua: compare it.
function KSR.siputils.has_totag() end

---@return integer # Kamailio return code: > 0 success, < 0 failure, 0 stops the script. Every number is true in Lua: compare it.
function KSR.siputils.is_request() end

---@return integer # Kamailio return code: > 0 success, < 0 failure, 0 stops the script. Every number is true in Lua: compare it.
function KSR.siputils.is_reply() end

---@return integer # Kamailio return code: > 0 success, < 0 failure, 0 stops the script. Every number is true in Lua: compare it.
function KSR.siputils.is_first_hop() end

---@param p1 integer
---@return integer # Kamailio return code: > 0 success, < 0 failure, 0 stops the script. Every number is true in Lua: compare it.
function KSR.siputils.is_first_hop_mode(p1) end

---@param p1 string
---@return integer # Kamailio return code: > 0 success, < 0 failure, 0 stops the script. Every number is true in Lua: compare it.
function KSR.siputils.is_uri(p1) end

---@param p1 string
---@return integer # Kamailio return code: > 0 success, < 0 failure, 0 stops the script. Every number is true in Lua: compare it.
function KSR.siputils.is_user(p1) end

---@param p1 string
---@return integer # Kamailio return code: > 0 success, < 0 failure, 0 stops the script. Every number is true in Lua: compare it.
function KSR.siputils.uri_param(p1) end

---@param p1 string
---@param p2 string
---@return integer # Kamailio return code: > 0 success, < 0 failure, 0 stops the script. Every number is true in Lua: compare it.
function KSR.siputils.uri_param_value(p1, p2) end

---@param p1 string
---@return integer # Kamailio return code: > 0 success, < 0 failure, 0 stops the script. Every number is true in Lua: compare it.
function KSR.siputils.uri_param_any(p1) end

---@param p1 string
---@return integer # Kamailio return code: > 0 success, < 0 failure, 0 stops the script. Every number is true in Lua: compare it.
function KSR.siputils.uri_param_rm(p1) end

---@param p1 string
---@return integer # Kamailio return code: > 0 success, < 0 failure, 0 stops the script. Every number is true in Lua: compare it.
function KSR.siputils.is_tel_number(p1) end

---@param p1 string
---@return integer # Kamailio return code: > 0 success, < 0 failure, 0 stops the script. Every number is true in Lua: compare it.
function KSR.siputils.is_numeric(p1) end

---@param p1 string
---@return integer # Kamailio return code: > 0 success, < 0 failure, 0 stops the script. Every number is true in Lua: compare it.
function KSR.siputils.is_alphanum(p1) end

---@param p1 string
---@param p2 string
---@return integer # Kamailio return code: > 0 success, < 0 failure, 0 stops the script. Every number is true in Lua: compare it.
function KSR.siputils.is_alphanumex(p1, p2) end

---@return integer # Kamailio return code: > 0 success, < 0 failure, 0 stops the script. Every number is true in Lua: compare it.
function KSR.siputils.options_reply() end

---@param p1 string
---@param p2 string
---@return integer # Kamailio return code: > 0 success, < 0 failure, 0 stops the script. Every number is true in Lua: compare it.
function KSR.siputils.encode_contact(p1, p2) end

---@return integer # Kamailio return code: > 0 success, < 0 failure, 0 stops the script. Every number is true in Lua: compare it.
function KSR.siputils.decode_contact() end

---@return integer # Kamailio return code: > 0 success, < 0 failure, 0 stops the script. Every number is true in Lua: compare it.
function KSR.siputils.decode_contact_header() end

---@param p1 string
---@param p2 string
---@return integer # Kamailio return code: > 0 success, < 0 failure, 0 stops the script. Every number is true in Lua: compare it.
function KSR.siputils.contact_param_encode(p1, p2) end

---@param p1 string
---@return integer # Kamailio return code: > 0 success, < 0 failure, 0 stops the script. Every number is true in Lua: compare it.
function KSR.siputils.contact_param_decode(p1) end

---@param p1 string
---@return integer # Kamailio return code: > 0 success, < 0 failure, 0 stops the script. Every number is true in Lua: compare it.
function KSR.siputils.contact_param_decode_ruri(p1) end

---@param p1 string
---@return integer # Kamailio return code: > 0 success, < 0 failure, 0 stops the script. Every number is true in Lua: compare it.
function KSR.siputils.contact_param_rm(p1) end

---@param p1 integer
---@return integer # Kamailio return code: > 0 success, < 0 failure, 0 stops the script. Every number is true in Lua: compare it.
function KSR.siputils.hdr_date_check(p1) end

---@param p1 string
---@param p2 string
---@return integer # Kamailio return code: > 0 success, < 0 failure, 0 stops the script. Every number is true in Lua: compare it.
function KSR.siputils.cmp_uri(p1, p2) end

---@param p1 string
---@param p2 string
---@return integer # Kamailio return code: > 0 success, < 0 failure, 0 stops the script. Every number is true in Lua: compare it.
function KSR.siputils.cmp_aor(p1, p2) end

---@param p1 string
---@param p2 string
---@return integer # Kamailio return code: > 0 success, < 0 failure, 0 stops the script. Every number is true in Lua: compare it.
function KSR.siputils.cmp_hdr_name(p1, p2) end

---@return integer # Kamailio return code: > 0 success, < 0 failure, 0 stops the script. Every number is true in Lua: compare it.
function KSR.siputils.is_gruu() end

---@param p1 string
---@return integer # Kamailio return code: > 0 success, < 0 failure, 0 stops the script. Every number is true in Lua: compare it.
function KSR.siputils.add_uri_param(p1) end

---@class KSR.sl
KSR.sl = {}

---@param p1 integer
---@param p2 string
---@return integer # Kamailio return code: > 0 success, < 0 failure, 0 stops the script. Every number is true in Lua: compare it.
function KSR.sl.sl_send_reply(p1, p2) end

---@param p1 integer
---@param p2 string
---@return integer # Kamailio return code: > 0 success, < 0 failure, 0 stops the script. Every number is true in Lua: compare it.
function KSR.sl.send_reply(p1, p2) end

---@param p1 integer
---@param p2 string
---@param p3 integer
---@return integer # Kamailio return code: > 0 success, < 0 failure, 0 stops the script. Every number is true in Lua: compare it.
function KSR.sl.send_reply_mode(p1, p2, p3) end

---@return integer # Kamailio return code: > 0 success, < 0 failure, 0 stops the script. Every number is true in Lua: compare it.
function KSR.sl.sl_reply_error() end

---@param p1 string
---@param p2 string
---@return integer # Kamailio return code: > 0 success, < 0 failure, 0 stops the script. Every number is true in Lua: compare it.
function KSR.sl.sl_forward_reply(p1, p2) end

---@class KSR.sqlops
KSR.sqlops = {}

---@param p1 string
---@param p2 string
---@param p3 string
---@return integer # Kamailio return code: > 0 success, < 0 failure, 0 stops the script. Every number is true in Lua: compare it.
function KSR.sqlops.sql_query(p1, p2, p3) end

---@param p1 string
---@return integer # Kamailio return code: > 0 success, < 0 failure, 0 stops the script. Every number is true in Lua: compare it.
function KSR.sqlops.sql_result_free(p1) end

---@param p1 string
---@return integer # Kamailio return code: > 0 success, < 0 failure, 0 stops the script. Every number is true in Lua: compare it.
function KSR.sqlops.sql_num_rows(p1) end

---@param p1 string
---@return integer # Kamailio return code: > 0 success, < 0 failure, 0 stops the script. Every number is true in Lua: compare it.
function KSR.sqlops.sql_num_columns(p1) end

---@param p1 string
---@param p2 integer
---@param p3 integer
---@return integer # Kamailio return code: > 0 success, < 0 failure, 0 stops the script. Every number is true in Lua: compare it.
function KSR.sqlops.sql_is_null(p1, p2, p3) end

---@param p1 string
---@param p2 string
---@param p3 string
---@return integer # Kamailio return code: > 0 success, < 0 failure, 0 stops the script. Every number is true in Lua: compare it.
function KSR.sqlops.sql_pvquery(p1, p2, p3) end

---@param p1 string
---@param p2 string
---@param p3 string
---@return integer # Kamailio return code: > 0 success, < 0 failure, 0 stops the script. Every number is true in Lua: compare it.
function KSR.sqlops.sql_xquery(p1, p2, p3) end

---@param p1 string
---@param p2 string
---@return integer # Kamailio return code: > 0 success, < 0 failure, 0 stops the script. Every number is true in Lua: compare it.
function KSR.sqlops.sql_query_async(p1, p2) end

---@param p1 string
---@param p2 integer
---@param p3 integer
---@return string|integer|nil
function KSR.sqlops.sql_result_get(p1, p2, p3) end

---@param p1 string
---@param p2 integer
---@param p3 integer
---@return string|integer|nil
function KSR.sqlops.sql_result_gete(p1, p2, p3) end

---@param p1 string
---@param p2 integer
---@param p3 integer
---@return string|integer|nil
function KSR.sqlops.sql_result_getz(p1, p2, p3) end

---@class KSR.textops
KSR.textops = {}

---@param p1 string
---@return integer # Kamailio return code: > 0 success, < 0 failure, 0 stops the script. Every number is true in Lua: compare it.
function KSR.textops.search(p1) end

---@param p1 string
---@return integer # Kamailio return code: > 0 success, < 0 failure, 0 stops the script. Every number is true in Lua: compare it.
function KSR.textops.search_body(p1) end

---@param p1 string
---@param p2 string
---@param p3 string
---@return integer # Kamailio return code: > 0 success, < 0 failure, 0 stops the script. Every number is true in Lua: compare it.
function KSR.textops.search_hf(p1, p2, p3) end

---@param p1 string
---@param p2 string
---@return integer # Kamailio return code: > 0 success, < 0 failure, 0 stops the script. Every number is true in Lua: compare it.
function KSR.textops.search_append(p1, p2) end

---@param p1 string
---@param p2 string
---@return integer # Kamailio return code: > 0 success, < 0 failure, 0 stops the script. Every number is true in Lua: compare it.
function KSR.textops.search_append_body(p1, p2) end

---@param p1 string
---@return integer # Kamailio return code: > 0 success, < 0 failure, 0 stops the script. Every number is true in Lua: compare it.
function KSR.textops.is_present_hf(p1) end

---@param p1 string
---@return integer # Kamailio return code: > 0 success, < 0 failure, 0 stops the script. Every number is true in Lua: compare it.
function KSR.textops.is_present_hf_re(p1) end

---@param p1 string
---@return integer # Kamailio return code: > 0 success, < 0 failure, 0 stops the script. Every number is true in Lua: compare it.
function KSR.textops.subst(p1) end

---@param p1 string
---@return integer # Kamailio return code: > 0 success, < 0 failure, 0 stops the script. Every number is true in Lua: compare it.
function KSR.textops.subst_uri(p1) end

---@param p1 string
---@return integer # Kamailio return code: > 0 success, < 0 failure, 0 stops the script. Every number is true in Lua: compare it.
function KSR.textops.subst_user(p1) end

---@param p1 string
---@return integer # Kamailio return code: > 0 success, < 0 failure, 0 stops the script. Every number is true in Lua: compare it.
function KSR.textops.subst_body(p1) end

---@param p1 string
---@param p2 string
---@param p3 string
---@return integer # Kamailio return code: > 0 success, < 0 failure, 0 stops the script. Every number is true in Lua: compare it.
function KSR.textops.subst_hf(p1, p2, p3) end

---@param p1 string
---@return integer # Kamailio return code: > 0 success, < 0 failure, 0 stops the script. Every number is true in Lua: compare it.
function KSR.textops.remove_hf(p1) end

---@param p1 string
---@return integer # Kamailio return code: > 0 success, < 0 failure, 0 stops the script. Every number is true in Lua: compare it.
function KSR.textops.remove_hf_re(p1) end

---@param p1 string
---@param p2 integer
---@return integer # Kamailio return code: > 0 success, < 0 failure, 0 stops the script. Every number is true in Lua: compare it.
function KSR.textops.remove_hf_idx(p1, p2) end

---@param p1 string
---@param p2 string
---@return integer # Kamailio return code: > 0 success, < 0 failure, 0 stops the script. Every number is true in Lua: compare it.
function KSR.textops.remove_hf_exp(p1, p2) end

---@param p1 string
---@param p2 string
---@param p3 string
---@return integer # Kamailio return code: > 0 success, < 0 failure, 0 stops the script. Every number is true in Lua: compare it.
function KSR.textops.remove_hf_match(p1, p2, p3) end

---@param p1 string
---@param p2 string
---@return integer # Kamailio return code: > 0 success, < 0 failure, 0 stops the script. Every number is true in Lua: compare it.
function KSR.textops.replace(p1, p2) end

---@param p1 string
---@param p2 string
---@param p3 string
---@return integer # Kamailio return code: > 0 success, < 0 failure, 0 stops the script. Every number is true in Lua: compare it.
function KSR.textops.replace_str(p1, p2, p3) end

---@param p1 string
---@param p2 string
---@return integer # Kamailio return code: > 0 success, < 0 failure, 0 stops the script. Every number is true in Lua: compare it.
function KSR.textops.replace_all(p1, p2) end

---@param p1 string
---@param p2 string
---@return integer # Kamailio return code: > 0 success, < 0 failure, 0 stops the script. Every number is true in Lua: compare it.
function KSR.textops.replace_body(p1, p2) end

---@param p1 string
---@param p2 string
---@param p3 string
---@return integer # Kamailio return code: > 0 success, < 0 failure, 0 stops the script. Every number is true in Lua: compare it.
function KSR.textops.replace_body_str(p1, p2, p3) end

---@param p1 string
---@param p2 string
---@return integer # Kamailio return code: > 0 success, < 0 failure, 0 stops the script. Every number is true in Lua: compare it.
function KSR.textops.replace_hdrs(p1, p2) end

---@param p1 string
---@param p2 string
---@param p3 string
---@return integer # Kamailio return code: > 0 success, < 0 failure, 0 stops the script. Every number is true in Lua: compare it.
function KSR.textops.replace_hdrs_str(p1, p2, p3) end

---@param p1 string
---@param p2 string
---@return integer # Kamailio return code: > 0 success, < 0 failure, 0 stops the script. Every number is true in Lua: compare it.
function KSR.textops.replace_body_all(p1, p2) end

---@param p1 string
---@param p2 string
---@return integer # Kamailio return code: > 0 success, < 0 failure, 0 stops the script. Every number is true in Lua: compare it.
function KSR.textops.replace_body_atonce(p1, p2) end

---@param p1 string
---@param p2 string
---@return integer # Kamailio return code: > 0 success, < 0 failure, 0 stops the script. Every number is true in Lua: compare it.
function KSR.textops.set_body(p1, p2) end

---@param p1 string
---@param p2 string
---@return integer # Kamailio return code: > 0 success, < 0 failure, 0 stops the script. Every number is true in Lua: compare it.
function KSR.textops.set_reply_body(p1, p2) end

---@return integer # Kamailio return code: > 0 success, < 0 failure, 0 stops the script. Every number is true in Lua: compare it.
function KSR.textops.has_body() end

---@param p1 string
---@return integer # Kamailio return code: > 0 success, < 0 failure, 0 stops the script. Every number is true in Lua: compare it.
function KSR.textops.has_body_type(p1) end

---@param p1 string
---@return integer # Kamailio return code: > 0 success, < 0 failure, 0 stops the script. Every number is true in Lua: compare it.
function KSR.textops.filter_body(p1) end

---@param p1 string
---@return integer # Kamailio return code: > 0 success, < 0 failure, 0 stops the script. Every number is true in Lua: compare it.
function KSR.textops.is_privacy(p1) end

---@param p1 string
---@param p2 string
---@param p3 string
---@return integer # Kamailio return code: > 0 success, < 0 failure, 0 stops the script. Every number is true in Lua: compare it.
function KSR.textops.in_list(p1, p2, p3) end

---@param p1 string
---@param p2 string
---@param p3 string
---@return integer # Kamailio return code: > 0 success, < 0 failure, 0 stops the script. Every number is true in Lua: compare it.
function KSR.textops.in_list_prefix(p1, p2, p3) end

---@param p1 string
---@param p2 string
---@return integer # Kamailio return code: > 0 success, < 0 failure, 0 stops the script. Every number is true in Lua: compare it.
function KSR.textops.cmp_str(p1, p2) end

---@param p1 string
---@param p2 string
---@return integer # Kamailio return code: > 0 success, < 0 failure, 0 stops the script. Every number is true in Lua: compare it.
function KSR.textops.cmp_istr(p1, p2) end

---@param p1 string
---@param p2 string
---@return integer # Kamailio return code: > 0 success, < 0 failure, 0 stops the script. Every number is true in Lua: compare it.
function KSR.textops.search_str(p1, p2) end

---@param p1 string
---@param p2 string
---@return integer # Kamailio return code: > 0 success, < 0 failure, 0 stops the script. Every number is true in Lua: compare it.
function KSR.textops.starts_with(p1, p2) end

---@param p1 string
---@param p2 string
---@return integer # Kamailio return code: > 0 success, < 0 failure, 0 stops the script. Every number is true in Lua: compare it.
function KSR.textops.ends_with(p1, p2) end

---@param p1 string
---@param p2 string
---@return integer # Kamailio return code: > 0 success, < 0 failure, 0 stops the script. Every number is true in Lua: compare it.
function KSR.textops.str_find(p1, p2) end

---@param p1 string
---@param p2 string
---@return integer # Kamailio return code: > 0 success, < 0 failure, 0 stops the script. Every number is true in Lua: compare it.
function KSR.textops.str_ifind(p1, p2) end

---@return integer # Kamailio return code: > 0 success, < 0 failure, 0 stops the script. Every number is true in Lua: compare it.
function KSR.textops.is_audio_on_hold() end

---@return integer # Kamailio return code: > 0 success, < 0 failure, 0 stops the script. Every number is true in Lua: compare it.
function KSR.textops.set_body_multipart_mode() end

---@param p1 string
---@return integer # Kamailio return code: > 0 success, < 0 failure, 0 stops the script. Every number is true in Lua: compare it.
function KSR.textops.set_body_multipart_boundary(p1) end

---@param p1 string
---@param p2 string
---@return integer # Kamailio return code: > 0 success, < 0 failure, 0 stops the script. Every number is true in Lua: compare it.
function KSR.textops.set_body_multipart_content(p1, p2) end

---@param p1 string
---@param p2 string
---@param p3 string
---@return integer # Kamailio return code: > 0 success, < 0 failure, 0 stops the script. Every number is true in Lua: compare it.
function KSR.textops.set_body_multipart(p1, p2, p3) end

---@param p1 string
---@param p2 string
---@return integer # Kamailio return code: > 0 success, < 0 failure, 0 stops the script. Every number is true in Lua: compare it.
function KSR.textops.append_body_part(p1, p2) end

---@param p1 string
---@param p2 string
---@param p3 string
---@return integer # Kamailio return code: > 0 success, < 0 failure, 0 stops the script. Every number is true in Lua: compare it.
function KSR.textops.append_body_part_cd(p1, p2, p3) end

---@param p1 string
---@param p2 string
---@return integer # Kamailio return code: > 0 success, < 0 failure, 0 stops the script. Every number is true in Lua: compare it.
function KSR.textops.append_body_part_hex(p1, p2) end

---@param p1 string
---@param p2 string
---@param p3 string
---@return integer # Kamailio return code: > 0 success, < 0 failure, 0 stops the script. Every number is true in Lua: compare it.
function KSR.textops.append_body_part_hex_cd(p1, p2, p3) end

---@param p1 string
---@return integer # Kamailio return code: > 0 success, < 0 failure, 0 stops the script. Every number is true in Lua: compare it.
function KSR.textops.remove_body_part(p1) end

---@param p1 string
---@param p2 string
---@return integer # Kamailio return code: > 0 success, < 0 failure, 0 stops the script. Every number is true in Lua: compare it.
function KSR.textops.get_body_part(p1, p2) end

---@param p1 string
---@param p2 string
---@return integer # Kamailio return code: > 0 success, < 0 failure, 0 stops the script. Every number is true in Lua: compare it.
function KSR.textops.get_body_part_raw(p1, p2) end

---@param p1 string
---@param p2 string
---@param p3 integer
---@param p4 integer
---@param p5 string
---@return integer # Kamailio return code: > 0 success, < 0 failure, 0 stops the script. Every number is true in Lua: compare it.
function KSR.textops.regex_substring(p1, p2, p3, p4, p5) end

---@class KSR.textopsx
KSR.textopsx = {}

---@return integer # Kamailio return code: > 0 success, < 0 failure, 0 stops the script. Every number is true in Lua: compare it.
function KSR.textopsx.msg_apply_changes() end

---@param p1 string
---@return integer # Kamailio return code: > 0 success, < 0 failure, 0 stops the script. Every number is true in Lua: compare it.
function KSR.textopsx.msg_set_buffer(p1) end

---@param p1 integer
---@param p2 string
---@return integer # Kamailio return code: > 0 success, < 0 failure, 0 stops the script. Every number is true in Lua: compare it.
function KSR.textopsx.change_reply_status(p1, p2) end

---@return integer # Kamailio return code: > 0 success, < 0 failure, 0 stops the script. Every number is true in Lua: compare it.
function KSR.textopsx.remove_body() end

---@param p1 integer
---@return integer # Kamailio return code: > 0 success, < 0 failure, 0 stops the script. Every number is true in Lua: compare it.
function KSR.textopsx.change_reply_status_code(p1) end

---@return integer # Kamailio return code: > 0 success, < 0 failure, 0 stops the script. Every number is true in Lua: compare it.
function KSR.textopsx.keep_hf() end

---@param p1 string
---@return integer # Kamailio return code: > 0 success, < 0 failure, 0 stops the script. Every number is true in Lua: compare it.
function KSR.textopsx.keep_hf_re(p1) end

---@param p1 string
---@param p2 string
---@return integer # Kamailio return code: > 0 success, < 0 failure, 0 stops the script. Every number is true in Lua: compare it.
function KSR.textopsx.fnmatch(p1, p2) end

---@param p1 string
---@param p2 string
---@param p3 string
---@return integer # Kamailio return code: > 0 success, < 0 failure, 0 stops the script. Every number is true in Lua: compare it.
function KSR.textopsx.fnmatch_ex(p1, p2, p3) end

---@param p1 string
---@param p2 string
---@return integer # Kamailio return code: > 0 success, < 0 failure, 0 stops the script. Every number is true in Lua: compare it.
function KSR.textopsx.append_hf_value(p1, p2) end

---@param p1 string
---@param p2 string
---@return integer # Kamailio return code: > 0 success, < 0 failure, 0 stops the script. Every number is true in Lua: compare it.
function KSR.textopsx.insert_hf_value(p1, p2) end

---@param p1 string
---@param p2 string
---@return integer # Kamailio return code: > 0 success, < 0 failure, 0 stops the script. Every number is true in Lua: compare it.
function KSR.textopsx.assign_hf_value(p1, p2) end

---@param p1 string
---@param p2 string
---@return integer # Kamailio return code: > 0 success, < 0 failure, 0 stops the script. Every number is true in Lua: compare it.
function KSR.textopsx.assign_hf_value2(p1, p2) end

---@param p1 string
---@return integer # Kamailio return code: > 0 success, < 0 failure, 0 stops the script. Every number is true in Lua: compare it.
function KSR.textopsx.remove_hf_value(p1) end

---@param p1 string
---@param p2 string
---@return integer # Kamailio return code: > 0 success, < 0 failure, 0 stops the script. Every number is true in Lua: compare it.
function KSR.textopsx.remove_hf_value2(p1, p2) end

---@param p1 string
---@param p2 string
---@return integer # Kamailio return code: > 0 success, < 0 failure, 0 stops the script. Every number is true in Lua: compare it.
function KSR.textopsx.include_hf_value(p1, p2) end

---@param p1 string
---@param p2 string
---@return integer # Kamailio return code: > 0 success, < 0 failure, 0 stops the script. Every number is true in Lua: compare it.
function KSR.textopsx.exclude_hf_value(p1, p2) end

---@param p1 string
---@param p2 string
---@return integer # Kamailio return code: > 0 success, < 0 failure, 0 stops the script. Every number is true in Lua: compare it.
function KSR.textopsx.hf_value_exists(p1, p2) end

---@param p1 string
---@return integer # Kamailio return code: > 0 success, < 0 failure, 0 stops the script. Every number is true in Lua: compare it.
function KSR.textopsx.hf_iterator_start(p1) end

---@param p1 string
---@return integer # Kamailio return code: > 0 success, < 0 failure, 0 stops the script. Every number is true in Lua: compare it.
function KSR.textopsx.hf_iterator_end(p1) end

---@param p1 string
---@return integer # Kamailio return code: > 0 success, < 0 failure, 0 stops the script. Every number is true in Lua: compare it.
function KSR.textopsx.hf_iterator_next(p1) end

---@param p1 string
---@return integer # Kamailio return code: > 0 success, < 0 failure, 0 stops the script. Every number is true in Lua: compare it.
function KSR.textopsx.hf_iterator_prev(p1) end

---@param p1 string
---@return integer # Kamailio return code: > 0 success, < 0 failure, 0 stops the script. Every number is true in Lua: compare it.
function KSR.textopsx.hf_iterator_rm(p1) end

---@param p1 string
---@param p2 string
---@return integer # Kamailio return code: > 0 success, < 0 failure, 0 stops the script. Every number is true in Lua: compare it.
function KSR.textopsx.hf_iterator_append(p1, p2) end

---@param p1 string
---@param p2 string
---@return integer # Kamailio return code: > 0 success, < 0 failure, 0 stops the script. Every number is true in Lua: compare it.
function KSR.textopsx.hf_iterator_insert(p1, p2) end

---@param p1 string
---@return string|integer|nil
function KSR.textopsx.hf_iterator_hname(p1) end

---@param p1 string
---@return string|integer|nil
function KSR.textopsx.hf_iterator_hbody(p1) end

---@param p1 string
---@return integer # Kamailio return code: > 0 success, < 0 failure, 0 stops the script. Every number is true in Lua: compare it.
function KSR.textopsx.bl_iterator_start(p1) end

---@param p1 string
---@return integer # Kamailio return code: > 0 success, < 0 failure, 0 stops the script. Every number is true in Lua: compare it.
function KSR.textopsx.bl_iterator_end(p1) end

---@param p1 string
---@return integer # Kamailio return code: > 0 success, < 0 failure, 0 stops the script. Every number is true in Lua: compare it.
function KSR.textopsx.bl_iterator_next(p1) end

---@param p1 string
---@return integer # Kamailio return code: > 0 success, < 0 failure, 0 stops the script. Every number is true in Lua: compare it.
function KSR.textopsx.bl_iterator_rm(p1) end

---@param p1 string
---@param p2 string
---@return integer # Kamailio return code: > 0 success, < 0 failure, 0 stops the script. Every number is true in Lua: compare it.
function KSR.textopsx.bl_iterator_append(p1, p2) end

---@param p1 string
---@param p2 string
---@return integer # Kamailio return code: > 0 success, < 0 failure, 0 stops the script. Every number is true in Lua: compare it.
function KSR.textopsx.bl_iterator_insert(p1, p2) end

---@param p1 string
---@return string|integer|nil
function KSR.textopsx.bl_iterator_value(p1) end

---@class KSR.tls
KSR.tls = {}

---@return integer # Kamailio return code: > 0 success, < 0 failure, 0 stops the script. Every number is true in Lua: compare it.
function KSR.tls.is_peer_verified() end

---@param p1 string
---@return integer # Kamailio return code: > 0 success, < 0 failure, 0 stops the script. Every number is true in Lua: compare it.
function KSR.tls.set_connect_server_id(p1) end

---@param p1 string
---@return string|integer|nil
function KSR.tls.cget(p1) end

---@class KSR.tm
KSR.tm = {}

---@return integer # Kamailio return code: > 0 success, < 0 failure, 0 stops the script. Every number is true in Lua: compare it.
function KSR.tm.t_relay() end

---@param p1 string
---@return integer # Kamailio return code: > 0 success, < 0 failure, 0 stops the script. Every number is true in Lua: compare it.
function KSR.tm.t_on_branch(p1) end

---@param p1 string
---@return integer # Kamailio return code: > 0 success, < 0 failure, 0 stops the script. Every number is true in Lua: compare it.
function KSR.tm.t_on_failure(p1) end

---@param p1 string
---@return integer # Kamailio return code: > 0 success, < 0 failure, 0 stops the script. Every number is true in Lua: compare it.
function KSR.tm.t_on_branch_failure(p1) end

---@param p1 string
---@return integer # Kamailio return code: > 0 success, < 0 failure, 0 stops the script. Every number is true in Lua: compare it.
function KSR.tm.t_on_reply(p1) end

---@param p1 integer
---@param p2 string
---@return integer # Kamailio return code: > 0 success, < 0 failure, 0 stops the script. Every number is true in Lua: compare it.
function KSR.tm.t_reply(p1, p2) end

---@param p1 integer
---@param p2 string
---@return integer # Kamailio return code: > 0 success, < 0 failure, 0 stops the script. Every number is true in Lua: compare it.
function KSR.tm.t_send_reply(p1, p2) end

---@return integer # Kamailio return code: > 0 success, < 0 failure, 0 stops the script. Every number is true in Lua: compare it.
function KSR.tm.t_check_trans() end

---@return integer # Kamailio return code: > 0 success, < 0 failure, 0 stops the script. Every number is true in Lua: compare it.
function KSR.tm.t_is_canceled() end

---@return integer # Kamailio return code: > 0 success, < 0 failure, 0 stops the script. Every number is true in Lua: compare it.
function KSR.tm.t_newtran() end

---@return integer # Kamailio return code: > 0 success, < 0 failure, 0 stops the script. Every number is true in Lua: compare it.
function KSR.tm.t_release() end

---@param p1 string
---@return integer # Kamailio return code: > 0 success, < 0 failure, 0 stops the script. Every number is true in Lua: compare it.
function KSR.tm.t_replicate(p1) end

---@param p1 string
---@return integer # Kamailio return code: > 0 success, < 0 failure, 0 stops the script. Every number is true in Lua: compare it.
function KSR.tm.t_is_set(p1) end

---@return integer # Kamailio return code: > 0 success, < 0 failure, 0 stops the script. Every number is true in Lua: compare it.
function KSR.tm.t_lookup_request() end

---@return integer # Kamailio return code: > 0 success, < 0 failure, 0 stops the script. Every number is true in Lua: compare it.
function KSR.tm.t_lookup_cancel() end

---@param p1 integer
---@return integer # Kamailio return code: > 0 success, < 0 failure, 0 stops the script. Every number is true in Lua: compare it.
function KSR.tm.t_lookup_cancel_flags(p1) end

---@return integer # Kamailio return code: > 0 success, < 0 failure, 0 stops the script. Every number is true in Lua: compare it.
function KSR.tm.t_retransmit_reply() end

---@param p1 integer
---@return integer # Kamailio return code: > 0 success, < 0 failure, 0 stops the script. Every number is true in Lua: compare it.
function KSR.tm.t_set_fr_inv(p1) end

---@param p1 integer
---@param p2 integer
---@return integer # Kamailio return code: > 0 success, < 0 failure, 0 stops the script. Every number is true in Lua: compare it.
function KSR.tm.t_set_fr(p1, p2) end

---@return integer # Kamailio return code: > 0 success, < 0 failure, 0 stops the script. Every number is true in Lua: compare it.
function KSR.tm.t_reset_fr() end

---@param p1 integer
---@param p2 integer
---@return integer # Kamailio return code: > 0 success, < 0 failure, 0 stops the script. Every number is true in Lua: compare it.
function KSR.tm.t_set_max_lifetime(p1, p2) end

---@return integer # Kamailio return code: > 0 success, < 0 failure, 0 stops the script. Every number is true in Lua: compare it.
function KSR.tm.t_reset_max_lifetime() end

---@param p1 integer
---@param p2 integer
---@return integer # Kamailio return code: > 0 success, < 0 failure, 0 stops the script. Every number is true in Lua: compare it.
function KSR.tm.t_set_retr(p1, p2) end

---@return integer # Kamailio return code: > 0 success, < 0 failure, 0 stops the script. Every number is true in Lua: compare it.
function KSR.tm.t_reset_retr() end

---@param p1 string
---@param p2 string
---@param p3 string
---@param p4 string
---@param p5 string
---@param p6 string
---@return integer # Kamailio return code: > 0 success, < 0 failure, 0 stops the script. Every number is true in Lua: compare it.
function KSR.tm.t_uac_send(p1, p2, p3, p4, p5, p6) end

---@return integer # Kamailio return code: > 0 success, < 0 failure, 0 stops the script. Every number is true in Lua: compare it.
function KSR.tm.t_load_contacts() end

---@param p1 integer
---@return integer # Kamailio return code: > 0 success, < 0 failure, 0 stops the script. Every number is true in Lua: compare it.
function KSR.tm.ki_t_load_contacts_mode(p1) end

---@return integer # Kamailio return code: > 0 success, < 0 failure, 0 stops the script. Every number is true in Lua: compare it.
function KSR.tm.t_next_contacts() end

---@return integer # Kamailio return code: > 0 success, < 0 failure, 0 stops the script. Every number is true in Lua: compare it.
function KSR.tm.t_next_contact_flow() end

---@return integer # Kamailio return code: > 0 success, < 0 failure, 0 stops the script. Every number is true in Lua: compare it.
function KSR.tm.t_drop_replies_all() end

---@param p1 string
---@return integer # Kamailio return code: > 0 success, < 0 failure, 0 stops the script. Every number is true in Lua: compare it.
function KSR.tm.t_drop_replies(p1) end

---@return integer # Kamailio return code: > 0 success, < 0 failure, 0 stops the script. Every number is true in Lua: compare it.
function KSR.tm.t_use_uac_headers() end

---@return integer # Kamailio return code: > 0 success, < 0 failure, 0 stops the script. Every number is true in Lua: compare it.
function KSR.tm.t_save_lumps() end

---@return integer # Kamailio return code: > 0 success, < 0 failure, 0 stops the script. Every number is true in Lua: compare it.
function KSR.tm.t_is_expired() end

---@param p1 string
---@return integer # Kamailio return code: > 0 success, < 0 failure, 0 stops the script. Every number is true in Lua: compare it.
function KSR.tm.t_check_status(p1) end

---@param p1 integer
---@return integer # Kamailio return code: > 0 success, < 0 failure, 0 stops the script. Every number is true in Lua: compare it.
function KSR.tm.t_grep_status(p1) end

---@return integer # Kamailio return code: > 0 success, < 0 failure, 0 stops the script. Every number is true in Lua: compare it.
function KSR.tm.t_is_retr_async_reply() end

---@return integer # Kamailio return code: > 0 success, < 0 failure, 0 stops the script. Every number is true in Lua: compare it.
function KSR.tm.t_any_replied() end

---@return integer # Kamailio return code: > 0 success, < 0 failure, 0 stops the script. Every number is true in Lua: compare it.
function KSR.tm.t_any_timeout() end

---@return integer # Kamailio return code: > 0 success, < 0 failure, 0 stops the script. Every number is true in Lua: compare it.
function KSR.tm.t_branch_replied() end

---@return integer # Kamailio return code: > 0 success, < 0 failure, 0 stops the script. Every number is true in Lua: compare it.
function KSR.tm.t_branch_timeout() end

---@param p1 integer
---@return integer # Kamailio return code: > 0 success, < 0 failure, 0 stops the script. Every number is true in Lua: compare it.
function KSR.tm.t_set_auto_inv_100(p1) end

---@param p1 integer
---@return integer # Kamailio return code: > 0 success, < 0 failure, 0 stops the script. Every number is true in Lua: compare it.
function KSR.tm.t_set_disable_6xx(p1) end

---@param p1 integer
---@return integer # Kamailio return code: > 0 success, < 0 failure, 0 stops the script. Every number is true in Lua: compare it.
function KSR.tm.t_set_disable_failover(p1) end

---@param p1 integer
---@return integer # Kamailio return code: > 0 success, < 0 failure, 0 stops the script. Every number is true in Lua: compare it.
function KSR.tm.t_set_no_e2e_cancel_reason(p1) end

---@param p1 integer
---@return integer # Kamailio return code: > 0 success, < 0 failure, 0 stops the script. Every number is true in Lua: compare it.
function KSR.tm.t_set_disable_internal_reply(p1) end

---@param p1 string
---@return integer # Kamailio return code: > 0 success, < 0 failure, 0 stops the script. Every number is true in Lua: compare it.
function KSR.tm.t_relay_to_proxy(p1) end

---@param p1 integer
---@return integer # Kamailio return code: > 0 success, < 0 failure, 0 stops the script. Every number is true in Lua: compare it.
function KSR.tm.t_relay_to_flags(p1) end

---@param p1 string
---@param p2 integer
---@return integer # Kamailio return code: > 0 success, < 0 failure, 0 stops the script. Every number is true in Lua: compare it.
function KSR.tm.t_relay_to_proxy_flags(p1, p2) end

---@param p1 string
---@return integer # Kamailio return code: > 0 success, < 0 failure, 0 stops the script. Every number is true in Lua: compare it.
function KSR.tm.t_relay_to_proto(p1) end

---@param p1 string
---@param p2 string
---@param p3 integer
---@return integer # Kamailio return code: > 0 success, < 0 failure, 0 stops the script. Every number is true in Lua: compare it.
function KSR.tm.t_relay_to_proto_addr(p1, p2, p3) end

---@return integer # Kamailio return code: > 0 success, < 0 failure, 0 stops the script. Every number is true in Lua: compare it.
function KSR.tm.t_get_status_code() end

---@return integer # Kamailio return code: > 0 success, < 0 failure, 0 stops the script. Every number is true in Lua: compare it.
function KSR.tm.t_get_branch_index() end

---@return integer # Kamailio return code: > 0 success, < 0 failure, 0 stops the script. Every number is true in Lua: compare it.
function KSR.tm.t_clean() end

---@class KSR.tmx
KSR.tmx = {}

---@return integer # Kamailio return code: > 0 success, < 0 failure, 0 stops the script. Every number is true in Lua: compare it.
function KSR.tmx.t_precheck_trans() end

---@return integer # Kamailio return code: > 0 success, < 0 failure, 0 stops the script. Every number is true in Lua: compare it.
function KSR.tmx.t_is_request_route() end

---@return integer # Kamailio return code: > 0 success, < 0 failure, 0 stops the script. Every number is true in Lua: compare it.
function KSR.tmx.t_is_reply_route() end

---@return integer # Kamailio return code: > 0 success, < 0 failure, 0 stops the script. Every number is true in Lua: compare it.
function KSR.tmx.t_is_failure_route() end

---@return integer # Kamailio return code: > 0 success, < 0 failure, 0 stops the script. Every number is true in Lua: compare it.
function KSR.tmx.t_is_branch_route() end

---@return integer # Kamailio return code: > 0 success, < 0 failure, 0 stops the script. Every number is true in Lua: compare it.
function KSR.tmx.t_suspend() end

---@param p1 integer
---@param p2 integer
---@param p3 string
---@return integer # Kamailio return code: > 0 success, < 0 failure, 0 stops the script. Every number is true in Lua: compare it.
function KSR.tmx.t_continue(p1, p2, p3) end

---@return integer # Kamailio return code: > 0 success, < 0 failure, 0 stops the script. Every number is true in Lua: compare it.
function KSR.tmx.t_flush_flags() end

---@return integer # Kamailio return code: > 0 success, < 0 failure, 0 stops the script. Every number is true in Lua: compare it.
function KSR.tmx.t_flush_xflags() end

---@param p1 string
---@return integer # Kamailio return code: > 0 success, < 0 failure, 0 stops the script. Every number is true in Lua: compare it.
function KSR.tmx.t_cancel_branches(p1) end

---@return integer # Kamailio return code: > 0 success, < 0 failure, 0 stops the script. Every number is true in Lua: compare it.
function KSR.tmx.t_reuse_branch() end

---@param p1 string
---@param p2 string
---@param p3 integer
---@return integer # Kamailio return code: > 0 success, < 0 failure, 0 stops the script. Every number is true in Lua: compare it.
function KSR.tmx.t_cancel_callid(p1, p2, p3) end

---@param p1 string
---@param p2 string
---@param p3 integer
---@param p4 integer
---@return integer # Kamailio return code: > 0 success, < 0 failure, 0 stops the script. Every number is true in Lua: compare it.
function KSR.tmx.t_cancel_callid_reason(p1, p2, p3, p4) end

---@param p1 string
---@param p2 string
---@param p3 integer
---@param p4 string
---@return integer # Kamailio return code: > 0 success, < 0 failure, 0 stops the script. Every number is true in Lua: compare it.
function KSR.tmx.t_reply_callid(p1, p2, p3, p4) end

---@return integer # Kamailio return code: > 0 success, < 0 failure, 0 stops the script. Every number is true in Lua: compare it.
function KSR.tmx.t_drop() end

---@param p1 integer
---@return integer # Kamailio return code: > 0 success, < 0 failure, 0 stops the script. Every number is true in Lua: compare it.
function KSR.tmx.t_drop_rcode(p1) end

---@class KSR.uac
KSR.uac = {}

---@return integer # Kamailio return code: > 0 success, < 0 failure, 0 stops the script. Every number is true in Lua: compare it.
function KSR.uac.uac_auth() end

---@param p1 integer
---@return integer # Kamailio return code: > 0 success, < 0 failure, 0 stops the script. Every number is true in Lua: compare it.
function KSR.uac.uac_auth_mode(p1) end

---@return integer # Kamailio return code: > 0 success, < 0 failure, 0 stops the script. Every number is true in Lua: compare it.
function KSR.uac.uac_req_send() end

---@param p1 string
---@return integer # Kamailio return code: > 0 success, < 0 failure, 0 stops the script. Every number is true in Lua: compare it.
function KSR.uac.uac_replace_from_uri(p1) end

---@param p1 string
---@param p2 string
---@return integer # Kamailio return code: > 0 success, < 0 failure, 0 stops the script. Every number is true in Lua: compare it.
function KSR.uac.uac_replace_from(p1, p2) end

---@return integer # Kamailio return code: > 0 success, < 0 failure, 0 stops the script. Every number is true in Lua: compare it.
function KSR.uac.uac_restore_from() end

---@param p1 string
---@return integer # Kamailio return code: > 0 success, < 0 failure, 0 stops the script. Every number is true in Lua: compare it.
function KSR.uac.uac_replace_to_uri(p1) end

---@param p1 string
---@param p2 string
---@return integer # Kamailio return code: > 0 success, < 0 failure, 0 stops the script. Every number is true in Lua: compare it.
function KSR.uac.uac_replace_to(p1, p2) end

---@return integer # Kamailio return code: > 0 success, < 0 failure, 0 stops the script. Every number is true in Lua: compare it.
function KSR.uac.uac_restore_to() end

---@param p1 string
---@param p2 string
---@return integer # Kamailio return code: > 0 success, < 0 failure, 0 stops the script. Every number is true in Lua: compare it.
function KSR.uac.uac_reg_lookup(p1, p2) end

---@param p1 string
---@param p2 string
---@return integer # Kamailio return code: > 0 success, < 0 failure, 0 stops the script. Every number is true in Lua: compare it.
function KSR.uac.uac_reg_lookup_uri(p1, p2) end

---@param p1 string
---@return integer # Kamailio return code: > 0 success, < 0 failure, 0 stops the script. Every number is true in Lua: compare it.
function KSR.uac.uac_reg_status(p1) end

---@param p1 string
---@param p2 integer
---@return integer # Kamailio return code: > 0 success, < 0 failure, 0 stops the script. Every number is true in Lua: compare it.
function KSR.uac.uac_reg_request_to(p1, p2) end

---@param p1 string
---@param p2 string
---@return integer # Kamailio return code: > 0 success, < 0 failure, 0 stops the script. Every number is true in Lua: compare it.
function KSR.uac.uac_reg_enable(p1, p2) end

---@param p1 string
---@param p2 string
---@return integer # Kamailio return code: > 0 success, < 0 failure, 0 stops the script. Every number is true in Lua: compare it.
function KSR.uac.uac_reg_disable(p1, p2) end

---@param p1 string
---@return integer # Kamailio return code: > 0 success, < 0 failure, 0 stops the script. Every number is true in Lua: compare it.
function KSR.uac.uac_reg_refresh(p1) end

---@class KSR.websocket
KSR.websocket = {}

---@return integer # Kamailio return code: > 0 success, < 0 failure, 0 stops the script. Every number is true in Lua: compare it.
function KSR.websocket.handle_handshake() end

---@return integer # Kamailio return code: > 0 success, < 0 failure, 0 stops the script. Every number is true in Lua: compare it.
function KSR.websocket.close() end

---@param p1 integer
---@param p2 string
---@return integer # Kamailio return code: > 0 success, < 0 failure, 0 stops the script. Every number is true in Lua: compare it.
function KSR.websocket.close_reason(p1, p2) end

---@param p1 integer
---@param p2 string
---@param p3 integer
---@return integer # Kamailio return code: > 0 success, < 0 failure, 0 stops the script. Every number is true in Lua: compare it.
function KSR.websocket.close_conid(p1, p2, p3) end

---@class KSR.x
KSR.x = {}

--- Stops the script (raises the error "~~ksr~exit~~").
function KSR.x.exit() end

--- Stops the script and drops the message.
function KSR.x.drop() end

---@param p1 string
---@param ... string
---@return integer # Kamailio return code: > 0 success, < 0 failure, 0 stops the script. Every number is true in Lua: compare it.
function KSR.x.modf(p1, ...) end

---@return false
function KSR.x.probe() end

---@class KSR.xhttp
KSR.xhttp = {}

---@param p1 integer
---@param p2 string
---@param p3 string
---@param p4 string
---@return integer # Kamailio return code: > 0 success, < 0 failure, 0 stops the script. Every number is true in Lua: compare it.
function KSR.xhttp.xhttp_reply(p1, p2, p3, p4) end

---@return string|integer|nil
function KSR.xhttp.get_hu() end

---@class KSR.xlog
KSR.xlog = {}

---@param p1 string
---@return integer # Kamailio return code: > 0 success, < 0 failure, 0 stops the script. Every number is true in Lua: compare it.
function KSR.xlog.xdbg(p1) end

---@param p1 string
---@return integer # Kamailio return code: > 0 success, < 0 failure, 0 stops the script. Every number is true in Lua: compare it.
function KSR.xlog.xinfo(p1) end

---@param p1 string
---@return integer # Kamailio return code: > 0 success, < 0 failure, 0 stops the script. Every number is true in Lua: compare it.
function KSR.xlog.xnotice(p1) end

---@param p1 string
---@return integer # Kamailio return code: > 0 success, < 0 failure, 0 stops the script. Every number is true in Lua: compare it.
function KSR.xlog.xwarn(p1) end

---@param p1 string
---@return integer # Kamailio return code: > 0 success, < 0 failure, 0 stops the script. Every number is true in Lua: compare it.
function KSR.xlog.xerr(p1) end

---@param p1 string
---@return integer # Kamailio return code: > 0 success, < 0 failure, 0 stops the script. Every number is true in Lua: compare it.
function KSR.xlog.xalert(p1) end

---@param p1 string
---@return integer # Kamailio return code: > 0 success, < 0 failure, 0 stops the script. Every number is true in Lua: compare it.
function KSR.xlog.xcrit(p1) end

---@param p1 string
---@param p2 string
---@return integer # Kamailio return code: > 0 success, < 0 failure, 0 stops the script. Every number is true in Lua: compare it.
function KSR.xlog.xlog(p1, p2) end
