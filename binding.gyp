# Builds Kite's one native piece, the NETLINK_ROUTE socket addon (native/netlink.c), into
# build/Release/kite_netlink.node. npm runs `node-gyp rebuild` on install because this file exists.
{
  "targets": [
    {
      "target_name": "kite_netlink",
      "sources": ["native/netlink.c"],
      "cflags": ["-O2", "-Wall", "-Wextra", "-Wno-unused-parameter"],
      "conditions": [["OS!='linux'", {"type": "none", "sources!": ["native/netlink.c"]}]]
    }
  ]
}
