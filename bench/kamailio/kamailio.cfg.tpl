#!KAMAILIO
# Kamailio 5.6 running the same KEMI Lua script as kemi-proxy, for side-by-side benchmarks and
# differential tests. @PORT@, @SCRIPT@, @CHILDREN@ and @RUNDIR@ are filled in by the runner.
debug=0
log_stderror=yes
fork=yes
children=@CHILDREN@
tcp_children=@CHILDREN@
auto_aliases=no
listen=udp:127.0.0.1:@PORT@
listen=tcp:127.0.0.1:@PORT@
alias="kemi.test"
mpath="/usr/lib/x86_64-linux-gnu/kamailio/modules/"

loadmodule "kex.so"
loadmodule "kemix.so"
loadmodule "corex.so"
loadmodule "tm.so"
loadmodule "tmx.so"
loadmodule "sl.so"
loadmodule "rr.so"
loadmodule "pv.so"
loadmodule "maxfwd.so"
loadmodule "textops.so"
loadmodule "textopsx.so"
loadmodule "siputils.so"
loadmodule "xlog.so"
loadmodule "sanity.so"
loadmodule "ctl.so"
loadmodule "app_lua.so"

modparam("ctl", "binrpc", "unix:@RUNDIR@/kamailio_ctl")
modparam("rr", "enable_full_lr", 0)
modparam("rr", "append_fromtag", 1)
modparam("app_lua", "load", "@SCRIPT@")
cfgengine "lua"
