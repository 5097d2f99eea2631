# Builds Kite's one native addon into build/Release/kite_netlink.node: the NETLINK_ROUTE socket
# (native/netlink.c) and the TCP options BGP needs that Node lacks, MD5 and GTSM (native/tcp.c).
# npm runs `node-gyp rebuild` on install because this file exists.
{
  "targets": [
    {
      "target_name": "kite_netlink",
      "sources": ["native/netlink.c", "native/tcp.c"],
      "cflags": ["-O2", "-Wall", "-Wextra", "-Wno-unused-parameter"],
      "conditions": [["OS!='linux'", {"type": "none", "sources!": ["native/netlink.c", "native/tcp.c"]}]]
    }
  ]
}
