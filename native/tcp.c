/*
 * TCP socket options Node's net module cannot set, for BGP sessions:
 *   - TCP MD5 signatures (RFC 2385, TCP_MD5SIG), per peer, on listening and connecting sockets;
 *   - GTSM (RFC 5082): IP_TTL / IPV6_UNICAST_HOPS 255 on what we send, and IP_MINTTL /
 *     IPV6_MINHOPCOUNT on what we accept.
 * Sockets that need them are created here (so the options are in place before the SYN) and
 * handed to Node as file descriptors: `new net.Socket({ fd })` then connect(), or
 * `server.listen({ fd })`. Everything returns errors as thrown JS errors with an errno.
 */
#define NAPI_VERSION 8
#define _GNU_SOURCE
#include <node_api.h>

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#ifndef IP_MINTTL
#define IP_MINTTL 21
#endif
#ifndef IPV6_MINHOPCOUNT
#define IPV6_MINHOPCOUNT 73
#endif

static napi_value tcp_throw(napi_env env, const char *what, int err) {
  char msg[256];
  snprintf(msg, sizeof msg, "%s: %s", what, strerror(err));
  napi_value message, error, errnum;
  napi_create_string_utf8(env, msg, NAPI_AUTO_LENGTH, &message);
  napi_create_error(env, NULL, message, &error);
  napi_create_int32(env, err, &errnum);
  napi_set_named_property(env, error, "errno", errnum);
  napi_throw(env, error);
  return NULL;
}

static int get_args(napi_env env, napi_callback_info info, size_t want, napi_value *argv) {
  size_t argc = want;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < want) {
    napi_throw_type_error(env, NULL, "missing arguments");
    return -1;
  }
  return 0;
}

static int get_int(napi_env env, napi_value v, int *out) {
  if (napi_get_value_int32(env, v, out) != napi_ok) {
    napi_throw_type_error(env, NULL, "expected a number");
    return -1;
  }
  return 0;
}

/* Text address -> sockaddr of the socket's family (an IPv4 peer on an IPv6 socket becomes
 * ::ffff:a.b.c.d, which is how a dual-stack socket sees it). */
static int make_addr(int sock_family, const char *text, int port, struct sockaddr_storage *ss, socklen_t *len) {
  memset(ss, 0, sizeof *ss);
  struct in_addr a4;
  struct in6_addr a6;
  if (inet_pton(AF_INET, text, &a4) == 1) {
    if (sock_family == AF_INET) {
      struct sockaddr_in *s = (struct sockaddr_in *)ss;
      s->sin_family = AF_INET;
      s->sin_port = htons((uint16_t)port);
      s->sin_addr = a4;
      *len = sizeof *s;
      return 0;
    }
    struct sockaddr_in6 *s = (struct sockaddr_in6 *)ss;
    s->sin6_family = AF_INET6;
    s->sin6_port = htons((uint16_t)port);
    s->sin6_addr.s6_addr[10] = 0xff;
    s->sin6_addr.s6_addr[11] = 0xff;
    memcpy(&s->sin6_addr.s6_addr[12], &a4, 4);
    *len = sizeof *s;
    return 0;
  }
  if (inet_pton(AF_INET6, text, &a6) == 1 && sock_family == AF_INET6) {
    struct sockaddr_in6 *s = (struct sockaddr_in6 *)ss;
    s->sin6_family = AF_INET6;
    s->sin6_port = htons((uint16_t)port);
    s->sin6_addr = a6;
    *len = sizeof *s;
    return 0;
  }
  return -1;
}

static int sock_family_of(int fd) {
  struct sockaddr_storage ss;
  socklen_t len = sizeof ss;
  if (getsockname(fd, (struct sockaddr *)&ss, &len) < 0) return -1;
  return ss.ss_family;
}

/* tcpSocket(family: 4 | 6): a non-blocking, close-on-exec TCP socket (IPv6 ones dual-stack). */
static napi_value js_tcp_socket(napi_env env, napi_callback_info info) {
  napi_value argv[1];
  int family;
  if (get_args(env, info, 1, argv) < 0 || get_int(env, argv[0], &family) < 0) return NULL;
  int af = family == 6 ? AF_INET6 : AF_INET;
  int fd = socket(af, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return tcp_throw(env, "socket", errno);
  int one = 1, zero = 0;
  setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  if (af == AF_INET6) setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &zero, sizeof zero);
  napi_value out;
  napi_create_int32(env, fd, &out);
  return out;
}

/* tcpBind(fd, address, port) */
static napi_value js_tcp_bind(napi_env env, napi_callback_info info) {
  napi_value argv[3];
  int fd, port;
  char text[64];
  size_t n;
  if (get_args(env, info, 3, argv) < 0 || get_int(env, argv[0], &fd) < 0 || get_int(env, argv[2], &port) < 0) return NULL;
  if (napi_get_value_string_utf8(env, argv[1], text, sizeof text, &n) != napi_ok) return tcp_throw(env, "bind address", EINVAL);
  struct sockaddr_storage ss;
  socklen_t len;
  if (make_addr(sock_family_of(fd), text, port, &ss, &len) < 0) return tcp_throw(env, "bind address", EAFNOSUPPORT);
  if (bind(fd, (struct sockaddr *)&ss, len) < 0) return tcp_throw(env, "bind", errno);
  return NULL;
}

/* tcpListen(fd, backlog) */
static napi_value js_tcp_listen(napi_env env, napi_callback_info info) {
  napi_value argv[2];
  int fd, backlog;
  if (get_args(env, info, 2, argv) < 0 || get_int(env, argv[0], &fd) < 0 || get_int(env, argv[1], &backlog) < 0) return NULL;
  if (listen(fd, backlog) < 0) return tcp_throw(env, "listen", errno);
  return NULL;
}

/* tcpSetMd5(fd, peerAddress, key): key "" removes the peer's key (RFC 2385; TCP_MD5SIG). */
static napi_value js_tcp_set_md5(napi_env env, napi_callback_info info) {
  napi_value argv[3];
  int fd;
  char text[64];
  size_t n, keylen;
  if (get_args(env, info, 3, argv) < 0 || get_int(env, argv[0], &fd) < 0) return NULL;
  if (napi_get_value_string_utf8(env, argv[1], text, sizeof text, &n) != napi_ok) return tcp_throw(env, "MD5 peer address", EINVAL);
  struct tcp_md5sig sig;
  memset(&sig, 0, sizeof sig);
  if (napi_get_value_string_utf8(env, argv[2], NULL, 0, &keylen) != napi_ok) return tcp_throw(env, "MD5 key", EINVAL);
  if (keylen > TCP_MD5SIG_MAXKEYLEN) return tcp_throw(env, "MD5 key longer than 80 bytes", EINVAL);
  char key[TCP_MD5SIG_MAXKEYLEN + 1];
  napi_get_value_string_utf8(env, argv[2], key, sizeof key, &keylen);
  memcpy(sig.tcpm_key, key, keylen);
  sig.tcpm_keylen = (uint16_t)keylen;
  socklen_t len;
  if (make_addr(sock_family_of(fd), text, 0, (struct sockaddr_storage *)&sig.tcpm_addr, &len) < 0)
    return tcp_throw(env, "MD5 peer address", EAFNOSUPPORT);
  if (setsockopt(fd, IPPROTO_TCP, TCP_MD5SIG, &sig, sizeof sig) < 0) {
    /* Removing a key that is not there is not an error worth reporting. */
    if (keylen == 0 && errno == ENOENT) return NULL;
    return tcp_throw(env, "setsockopt(TCP_MD5SIG)", errno);
  }
  return NULL;
}

/* tcpSetTtl(fd, ttl, minTtl): outgoing TTL / hop limit (0: unchanged, -1: the system default),
 * and the minimum accepted (-1: unchanged, 0: off). */
static napi_value js_tcp_set_ttl(napi_env env, napi_callback_info info) {
  napi_value argv[3];
  int fd, ttl, minttl;
  if (get_args(env, info, 3, argv) < 0 || get_int(env, argv[0], &fd) < 0 || get_int(env, argv[1], &ttl) < 0 ||
      get_int(env, argv[2], &minttl) < 0)
    return NULL;
  int af = sock_family_of(fd);
  if (af < 0) return tcp_throw(env, "getsockname", errno);
  /* A dual-stack IPv6 socket carries IPv4 too: set both levels there. */
  if (ttl != 0) {
    if (setsockopt(fd, IPPROTO_IP, IP_TTL, &ttl, sizeof ttl) < 0 && af == AF_INET) return tcp_throw(env, "setsockopt(IP_TTL)", errno);
    if (af == AF_INET6 && setsockopt(fd, IPPROTO_IPV6, IPV6_UNICAST_HOPS, &ttl, sizeof ttl) < 0)
      return tcp_throw(env, "setsockopt(IPV6_UNICAST_HOPS)", errno);
  }
  if (minttl >= 0) {
    if (setsockopt(fd, IPPROTO_IP, IP_MINTTL, &minttl, sizeof minttl) < 0 && af == AF_INET)
      return tcp_throw(env, "setsockopt(IP_MINTTL)", errno);
    if (af == AF_INET6 && setsockopt(fd, IPPROTO_IPV6, IPV6_MINHOPCOUNT, &minttl, sizeof minttl) < 0)
      return tcp_throw(env, "setsockopt(IPV6_MINHOPCOUNT)", errno);
  }
  return NULL;
}

/* tcpClose(fd): for sockets never handed to Node. */
static napi_value js_tcp_close(napi_env env, napi_callback_info info) {
  napi_value argv[1];
  int fd;
  if (get_args(env, info, 1, argv) < 0 || get_int(env, argv[0], &fd) < 0) return NULL;
  close(fd);
  return NULL;
}

void kite_register_tcp(napi_env env, napi_value exports) {
  napi_property_descriptor props[] = {
      {"tcpSocket", NULL, js_tcp_socket, NULL, NULL, NULL, napi_default, NULL},
      {"tcpBind", NULL, js_tcp_bind, NULL, NULL, NULL, napi_default, NULL},
      {"tcpListen", NULL, js_tcp_listen, NULL, NULL, NULL, napi_default, NULL},
      {"tcpSetMd5", NULL, js_tcp_set_md5, NULL, NULL, NULL, napi_default, NULL},
      {"tcpSetTtl", NULL, js_tcp_set_ttl, NULL, NULL, NULL, napi_default, NULL},
      {"tcpClose", NULL, js_tcp_close, NULL, NULL, NULL, napi_default, NULL},
  };
  napi_define_properties(env, exports, sizeof props / sizeof props[0], props);
}
