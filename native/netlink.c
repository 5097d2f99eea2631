/*
 * Kite's only native code: a NETLINK_ROUTE socket for Node.js (which has no AF_NETLINK).
 * It opens, binds, sends whole batches in one sendmsg and reads datagrams from uv_poll without
 * ever blocking the event loop. Every message is encoded and decoded in TypeScript
 * (src/dataplane/netlink/); this file knows nothing about routes.
 *
 * Errors never abort the process: socket errors are returned/thrown as JS errors with an errno,
 * and ENOBUFS on receive (the kernel dropped messages because our receive buffer was full) is
 * delivered to the JS callback as an event so the caller can resynchronise.
 */
#define NAPI_VERSION 8
#define _GNU_SOURCE
#include <node_api.h>
#include <uv.h>

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <linux/netlink.h>

#ifndef NETLINK_CAP_ACK
#define NETLINK_CAP_ACK 10
#endif
#ifndef NETLINK_EXT_ACK
#define NETLINK_EXT_ACK 11
#endif
#ifndef NETLINK_GET_STRICT_CHK
#define NETLINK_GET_STRICT_CHK 12
#endif
#ifndef SOL_NETLINK
#define SOL_NETLINK 270
#endif

/* Largest datagram we accept; the kernel's dump skbs are at most 32 KiB plus headroom, but a
 * single RTM_NEWLINK with all its stats can approach 64 KiB on hosts with many VFs. */
#define RECV_BUF_SIZE (256 * 1024)
/* Bytes read per poll callback before yielding back to the event loop, so a flood of events
 * cannot starve timers and other sockets. */
#define READ_BUDGET (4 * 1024 * 1024)

typedef struct {
  int fd;
  uint32_t portid;
  int closed;
  int polling;
  uv_poll_t poll;
  napi_env env;
  napi_ref callback;       /* (data: Buffer | null, errno: number) => void */
  napi_async_context async_ctx;
  uint8_t *rbuf;
  uint8_t *acc;            /* concatenation of the datagrams read in one callback */
  size_t acc_cap;
  int refs;                /* owners: the JS external, the uv handle, a send in flight; freed at zero */
  int sending;             /* a sendAsync job is running on the thread pool */
  int deferred_fd;         /* closed while sending: the fd to close when the job completes */
  int send_fd;             /* the fd the running job writes to */
  napi_async_work work;
  uv_mutex_t qlock;        /* guards the two lists below (shared with the pool thread) */
  struct send_item *qhead, *qtail;  /* queued writes, in order */
  struct send_item *dhead, *dtail;  /* sent, callbacks pending */
} nl_sock;

static napi_value throw_errno(napi_env env, const char *what, int err) {
  char msg[256];
  snprintf(msg, sizeof msg, "%s: %s", what, strerror(err));
  napi_value code, message, error, errnum;
  char codebuf[32];
  snprintf(codebuf, sizeof codebuf, "%d", err);
  napi_create_string_utf8(env, codebuf, NAPI_AUTO_LENGTH, &code);
  napi_create_string_utf8(env, msg, NAPI_AUTO_LENGTH, &message);
  napi_create_error(env, NULL, message, &error);
  napi_create_int32(env, err, &errnum);
  napi_set_named_property(env, error, "errno", errnum);
  napi_throw(env, error);
  return NULL;
}

#define CHECK(call)                                                     \
  do {                                                                  \
    if ((call) != napi_ok) {                                            \
      napi_throw_error(env, NULL, "napi call failed: " #call);          \
      return NULL;                                                      \
    }                                                                   \
  } while (0)

static void release(nl_sock *s) {
  if (--s->refs > 0) return;
  uv_mutex_destroy(&s->qlock);
  free(s->rbuf);
  free(s->acc);
  free(s);
}

static void on_handle_closed(uv_handle_t *h) { release((nl_sock *)h->data); }

/* Close the uv handle first, then the descriptor, both now. The handle must not outlive the fd:
 * libuv's close of a poll handle removes its fd from epoll, and if that ran later (at GC) the
 * number could by then belong to a new socket, whose registration would silently vanish. */
static void sock_close(nl_sock *s, int from_finalizer) {
  if (s->closed) return;
  uv_mutex_lock(&s->qlock); /* the send job reads `closed` under this lock */
  s->closed = 1;
  uv_mutex_unlock(&s->qlock);
  if (s->callback && !from_finalizer) {
    napi_delete_reference(s->env, s->callback);
    s->callback = NULL;
  }
  if (s->async_ctx && !from_finalizer) {
    napi_async_destroy(s->env, s->async_ctx);
    s->async_ctx = NULL;
  }
  s->polling = 0;
  uv_close((uv_handle_t *)&s->poll, on_handle_closed);
  /* A sendmsg may be running on the thread pool with this fd: closing it now could let the
   * number be reused under that call. The job's completion closes it instead. */
  if (s->sending)
    s->deferred_fd = s->fd;
  else
    close(s->fd);
  s->fd = -1;
}

static void deliver(nl_sock *s, const uint8_t *data, size_t len, int err) {
  napi_env env = s->env;
  napi_handle_scope scope;
  if (napi_open_handle_scope(env, &scope) != napi_ok) return;
  napi_value cb, recv, argv[2];
  napi_get_reference_value(env, s->callback, &cb);
  napi_get_global(env, &recv); /* napi_make_callback needs an object receiver */
  if (data) {
    void *out;
    napi_create_buffer_copy(env, len, data, &out, &argv[0]);
  } else {
    napi_get_null(env, &argv[0]);
  }
  napi_create_int32(env, err, &argv[1]);
  /* napi_make_callback runs the microtask queue afterwards and routes a throwing callback to
   * 'uncaughtException' like any other Node callback, instead of leaving it pending here. */
  napi_value result;
  napi_make_callback(env, s->async_ctx, recv, cb, 2, argv, &result);
  napi_close_handle_scope(env, scope);
}

static void on_readable(uv_poll_t *h, int status, int events) {
  nl_sock *s = (nl_sock *)h->data;
  (void)events;
  if (s->closed) return;
  /* libuv reports EPOLLERR as status UV_EBADF and stops the handle. For a netlink socket
   * EPOLLERR means sk_err is set — normally ENOBUFS after the kernel dropped messages. Reading
   * returns (and clears) that error, so read as usual and restart polling afterwards. */
  int restart = status < 0;
  size_t used = 0, total = 0;
  int pending_err = 0;
  while (total < READ_BUDGET && !s->closed) {
    struct sockaddr_nl from;
    struct iovec iov = {s->rbuf, RECV_BUF_SIZE};
    struct msghdr mh = {0};
    mh.msg_name = &from;
    mh.msg_namelen = sizeof from;
    mh.msg_iov = &iov;
    mh.msg_iovlen = 1;
    ssize_t n = recvmsg(s->fd, &mh, MSG_DONTWAIT);
    if (n < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN || errno == EWOULDBLOCK) break;
      /* ENOBUFS: the kernel dropped messages. Report it in order, after what we already read. */
      pending_err = errno;
      break;
    }
    if (n == 0) break;
    if (from.nl_pid != 0) continue; /* only the kernel may talk to us */
    if (mh.msg_flags & MSG_TRUNC) {
      pending_err = EMSGSIZE;
      break;
    }
    if (used + (size_t)n > s->acc_cap) {
      size_t cap = s->acc_cap ? s->acc_cap : 65536;
      while (cap < used + (size_t)n) cap *= 2;
      uint8_t *p = realloc(s->acc, cap);
      if (!p) {
        pending_err = ENOMEM;
        break;
      }
      s->acc = p;
      s->acc_cap = cap;
    }
    memcpy(s->acc + used, s->rbuf, (size_t)n);
    used += (size_t)n;
    total += (size_t)n;
  }
  if (used > 0) deliver(s, s->acc, used, 0);
  if (!pending_err && restart && used == 0) pending_err = -status;
  if (pending_err && !s->closed) deliver(s, NULL, 0, pending_err);
  if (restart && s->polling && !s->closed) {
    int rc = uv_poll_start(&s->poll, UV_READABLE, on_readable);
    if (rc < 0 && !s->closed) deliver(s, NULL, 0, -rc);
  }
  /* Keep the accumulation buffer from staying huge after one big dump. */
  if (s->acc_cap > 4 * 1024 * 1024) {
    free(s->acc);
    s->acc = NULL;
    s->acc_cap = 0;
  }
}

static void finalize_sock(napi_env env, void *data, void *hint) {
  (void)env;
  (void)hint;
  nl_sock *s = (nl_sock *)data;
  if (!s->closed) sock_close(s, 1);
  release(s);
}

static nl_sock *get_sock(napi_env env, napi_value v) {
  void *p = NULL;
  if (napi_get_value_external(env, v, &p) != napi_ok || !p) {
    napi_throw_type_error(env, NULL, "expected a netlink socket handle");
    return NULL;
  }
  return (nl_sock *)p;
}

static int set_int_opt(int fd, int level, int opt, int val) {
  return setsockopt(fd, level, opt, &val, sizeof val);
}

/*
 * open({ rcvbuf, sndbuf, groups: number[], netns: string | undefined, strict: boolean }, callback)
 *   -> { handle, portid, rcvbuf, sndbuf }
 * netns names a namespace file (/var/run/netns/NAME): the socket is created inside it and this
 * thread switches back at once (a socket keeps the namespace it was created in).
 */
static napi_value js_open(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  if (argc < 2) {
    napi_throw_type_error(env, NULL, "open(options, callback)");
    return NULL;
  }
  napi_value v;
  int32_t rcvbuf = 0, sndbuf = 0;
  bool strict = false, has;
  CHECK(napi_get_named_property(env, argv[0], "rcvbuf", &v));
  napi_get_value_int32(env, v, &rcvbuf);
  CHECK(napi_get_named_property(env, argv[0], "sndbuf", &v));
  napi_get_value_int32(env, v, &sndbuf);
  CHECK(napi_get_named_property(env, argv[0], "strict", &v));
  napi_get_value_bool(env, v, &strict);

  char nspath[512] = {0};
  CHECK(napi_has_named_property(env, argv[0], "netns", &has));
  if (has) {
    CHECK(napi_get_named_property(env, argv[0], "netns", &v));
    napi_valuetype t;
    napi_typeof(env, v, &t);
    if (t == napi_string) {
      size_t l;
      napi_get_value_string_utf8(env, v, nspath, sizeof nspath, &l);
    }
  }

  int fd = -1, err = 0;
  if (nspath[0]) {
    int self = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
    if (self < 0) self = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
    if (self < 0) return throw_errno(env, "open /proc/self/ns/net", errno);
    int target = open(nspath, O_RDONLY | O_CLOEXEC);
    if (target < 0) {
      err = errno;
      close(self);
      return throw_errno(env, nspath, err);
    }
    if (setns(target, CLONE_NEWNET) < 0) {
      err = errno;
      close(self);
      close(target);
      return throw_errno(env, "setns", err);
    }
    fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC | SOCK_NONBLOCK, NETLINK_ROUTE);
    err = errno;
    if (setns(self, CLONE_NEWNET) < 0) {
      /* Cannot return to our own namespace: carrying on would run the whole process in the
       * wrong namespace, which is worse than stopping. */
      fprintf(stderr, "kite netlink: setns back to own namespace failed: %s\n", strerror(errno));
      abort();
    }
    close(self);
    close(target);
  } else {
    fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC | SOCK_NONBLOCK, NETLINK_ROUTE);
    err = errno;
  }
  if (fd < 0) return throw_errno(env, "socket(AF_NETLINK)", err);

  /* FORCE needs CAP_NET_ADMIN; without it the kernel caps at net.core.rmem_max. */
  if (rcvbuf > 0 && set_int_opt(fd, SOL_SOCKET, SO_RCVBUFFORCE, rcvbuf) < 0)
    set_int_opt(fd, SOL_SOCKET, SO_RCVBUF, rcvbuf);
  if (sndbuf > 0 && set_int_opt(fd, SOL_SOCKET, SO_SNDBUFFORCE, sndbuf) < 0)
    set_int_opt(fd, SOL_SOCKET, SO_SNDBUF, sndbuf);
  /* Extended ACKs carry the kernel's reason text ("Nexthop device is not up"); capped ACKs do
   * not echo our whole request back, so an ACK costs ~36 bytes instead of the request's size. */
  set_int_opt(fd, SOL_NETLINK, NETLINK_EXT_ACK, 1);
  set_int_opt(fd, SOL_NETLINK, NETLINK_CAP_ACK, 1);
  if (strict) set_int_opt(fd, SOL_NETLINK, NETLINK_GET_STRICT_CHK, 1);

  struct sockaddr_nl sa = {0};
  sa.nl_family = AF_NETLINK;
  if (bind(fd, (struct sockaddr *)&sa, sizeof sa) < 0) {
    err = errno;
    close(fd);
    return throw_errno(env, "bind(AF_NETLINK)", err);
  }
  socklen_t sl = sizeof sa;
  getsockname(fd, (struct sockaddr *)&sa, &sl);

  CHECK(napi_get_named_property(env, argv[0], "groups", &v));
  bool isarr = false;
  napi_is_array(env, v, &isarr);
  if (isarr) {
    uint32_t n = 0;
    napi_get_array_length(env, v, &n);
    for (uint32_t i = 0; i < n; i++) {
      napi_value g;
      int32_t grp = 0;
      napi_get_element(env, v, i, &g);
      napi_get_value_int32(env, g, &grp);
      if (set_int_opt(fd, SOL_NETLINK, NETLINK_ADD_MEMBERSHIP, grp) < 0) {
        err = errno;
        close(fd);
        return throw_errno(env, "NETLINK_ADD_MEMBERSHIP", err);
      }
    }
  }

  int actual_rcv = 0, actual_snd = 0;
  socklen_t ol = sizeof actual_rcv;
  getsockopt(fd, SOL_SOCKET, SO_RCVBUF, &actual_rcv, &ol);
  ol = sizeof actual_snd;
  getsockopt(fd, SOL_SOCKET, SO_SNDBUF, &actual_snd, &ol);

  nl_sock *s = calloc(1, sizeof *s);
  if (!s) {
    close(fd);
    return throw_errno(env, "calloc", ENOMEM);
  }
  s->rbuf = malloc(RECV_BUF_SIZE);
  if (!s->rbuf) {
    free(s);
    close(fd);
    return throw_errno(env, "malloc", ENOMEM);
  }
  s->fd = fd;
  s->deferred_fd = -1;
  uv_mutex_init(&s->qlock);
  s->refs = 2;
  s->portid = sa.nl_pid;
  s->env = env;
  s->poll.data = s;
  struct uv_loop_s *loop;
  CHECK(napi_get_uv_event_loop(env, &loop));
  int rc = uv_poll_init(loop, &s->poll, fd);
  if (rc < 0) {
    free(s->rbuf);
    free(s);
    close(fd);
    return throw_errno(env, "uv_poll_init", -rc);
  }
  CHECK(napi_create_reference(env, argv[1], 1, &s->callback));
  napi_value resname;
  napi_create_string_utf8(env, "KiteNetlink", NAPI_AUTO_LENGTH, &resname);
  CHECK(napi_async_init(env, NULL, resname, &s->async_ctx));
  /* Unreferenced until the JS side has something outstanding: an idle socket must not keep
   * the process alive. */
  uv_unref((uv_handle_t *)&s->poll);

  napi_value out, handle, num;
  CHECK(napi_create_object(env, &out));
  CHECK(napi_create_external(env, s, finalize_sock, NULL, &handle));
  napi_set_named_property(env, out, "handle", handle);
  napi_create_uint32(env, s->portid, &num);
  napi_set_named_property(env, out, "portid", num);
  napi_create_int32(env, actual_rcv, &num);
  napi_set_named_property(env, out, "rcvbuf", num);
  napi_create_int32(env, actual_snd, &num);
  napi_set_named_property(env, out, "sndbuf", num);
  return out;
}

/* One sendmsg of a buffer of netlink messages to the kernel, retried on EINTR; -1 with errno set. */
static ssize_t nl_sendmsg(int fd, void *data, size_t len) {
  struct sockaddr_nl to = {0};
  to.nl_family = AF_NETLINK;
  struct iovec iov = {data, len};
  struct msghdr mh = {0};
  mh.msg_name = &to;
  mh.msg_namelen = sizeof to;
  mh.msg_iov = &iov;
  mh.msg_iovlen = 1;
  ssize_t n;
  do {
    n = sendmsg(fd, &mh, 0);
  } while (n < 0 && errno == EINTR);
  return n;
}

/* send(handle, buffer) -> bytes sent. One sendmsg: the kernel processes every message in the
 * buffer in order, in our thread, before returning. */
static napi_value js_send(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  nl_sock *s = get_sock(env, argv[0]);
  if (!s) return NULL;
  if (s->closed) return throw_errno(env, "send on closed netlink socket", EBADF);
  void *data;
  size_t len;
  bool isbuf = false;
  napi_is_buffer(env, argv[1], &isbuf);
  if (!isbuf) {
    napi_throw_type_error(env, NULL, "send(handle, Buffer)");
    return NULL;
  }
  CHECK(napi_get_buffer_info(env, argv[1], &data, &len));
  ssize_t n = nl_sendmsg(s->fd, data, len);
  if (n < 0) return throw_errno(env, "sendmsg(netlink)", errno);
  napi_value out;
  napi_create_int64(env, (int64_t)n, &out);
  return out;
}

/* sendAsync(handle, Buffer, cb(errno)): the same sendmsg on libuv's thread pool. The kernel
 * processes netlink requests inside sendmsg, so installing a large batch of routes takes real
 * time there; on the pool it overlaps with JavaScript work (computing the next batch, BGP).
 * Writes join a per-socket queue that one pool job drains in order (netlink requests keep their
 * order, and the event loop is not needed between writes); callbacks run when the job has
 * drained the queue. Each Buffer is held by a reference until its callback. */
typedef struct send_item {
  struct send_item *next;
  napi_ref buf_ref;
  napi_ref cb_ref;
  void *data;
  size_t len;
  int err;
} send_item;

static void send_one(int fd, send_item *it) { it->err = nl_sendmsg(fd, it->data, it->len) < 0 ? errno : 0; }

/* Pool thread: send queued items until the queue is empty; finished items move to `done`. */
static void send_execute(napi_env env, void *data) {
  (void)env;
  nl_sock *s = (nl_sock *)data;
  for (;;) {
    uv_mutex_lock(&s->qlock);
    send_item *it = s->qhead;
    int closed = s->closed;
    if (it) {
      s->qhead = it->next;
      if (!s->qhead) s->qtail = NULL;
    }
    uv_mutex_unlock(&s->qlock);
    if (!it) break;
    it->next = NULL;
    /* Closed: what is still queued is not sent (its requests were already failed in JS). */
    if (closed)
      it->err = EBADF;
    else
      send_one(s->send_fd, it);
    uv_mutex_lock(&s->qlock);
    if (s->dtail) s->dtail->next = it; else s->dhead = it;
    s->dtail = it;
    uv_mutex_unlock(&s->qlock);
  }
}

static void start_sender(napi_env env, nl_sock *s);

/* Event loop: run the callbacks of what was sent; start another job if more was queued meanwhile. */
static void send_complete(napi_env env, napi_status status, void *data) {
  nl_sock *s = (nl_sock *)data;
  napi_delete_async_work(env, s->work);
  s->work = NULL;
  uv_mutex_lock(&s->qlock);
  send_item *done = s->dhead;
  s->dhead = s->dtail = NULL;
  if (s->closed && s->qhead) {
    /* Queued after the job's last look, on a socket closed since: answer them, unsent. */
    send_item **end = &done;
    while (*end) end = &(*end)->next;
    for (send_item *it = s->qhead; it; it = it->next) it->err = EBADF;
    *end = s->qhead;
    s->qhead = s->qtail = NULL;
  }
  int more = s->qhead != NULL;
  uv_mutex_unlock(&s->qlock);
  s->sending = 0;
  if (more && !s->closed) start_sender(env, s);
  if (!s->sending && s->deferred_fd >= 0) {
    close(s->deferred_fd);
    s->deferred_fd = -1;
  }
  napi_value recv;
  napi_get_global(env, &recv);
  while (done) {
    send_item *it = done;
    done = it->next;
    napi_value cb, argv[1], result;
    napi_create_int32(env, status == napi_ok ? it->err : ECANCELED, &argv[0]);
    napi_get_reference_value(env, it->cb_ref, &cb);
    napi_delete_reference(env, it->buf_ref);
    napi_delete_reference(env, it->cb_ref);
    free(it);
    /* Completion callbacks run inside a callback scope: a throw goes to 'uncaughtException'. */
    napi_call_function(env, recv, cb, 1, argv, &result);
  }
  release(s);
}

static void start_sender(napi_env env, nl_sock *s) {
  napi_value name;
  napi_create_string_utf8(env, "kite:netlink-send", NAPI_AUTO_LENGTH, &name);
  if (napi_create_async_work(env, NULL, name, send_execute, send_complete, s, &s->work) != napi_ok) return;
  /* Set before queueing: the pool thread may start at once. */
  s->send_fd = s->fd;
  s->sending = 1;
  s->refs++;
  if (napi_queue_async_work(env, s->work) != napi_ok) {
    napi_delete_async_work(env, s->work);
    s->work = NULL;
    s->sending = 0;
    s->refs--;
  }
}

static napi_value js_send_async(napi_env env, napi_callback_info info) {
  size_t argc = 3;
  napi_value argv[3];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  nl_sock *s = get_sock(env, argv[0]);
  if (!s) return NULL;
  if (s->closed) return throw_errno(env, "send on closed netlink socket", EBADF);
  bool isbuf = false;
  napi_is_buffer(env, argv[1], &isbuf);
  napi_valuetype t;
  napi_typeof(env, argv[2], &t);
  if (!isbuf || t != napi_function) {
    napi_throw_type_error(env, NULL, "sendAsync(handle, Buffer, callback)");
    return NULL;
  }
  send_item *it = (send_item *)calloc(1, sizeof *it);
  if (!it) return throw_errno(env, "sendAsync", ENOMEM);
  if (napi_get_buffer_info(env, argv[1], &it->data, &it->len) != napi_ok ||
      napi_create_reference(env, argv[1], 1, &it->buf_ref) != napi_ok ||
      napi_create_reference(env, argv[2], 1, &it->cb_ref) != napi_ok) {
    free(it);
    napi_throw_error(env, NULL, "sendAsync: napi failure");
    return NULL;
  }
  uv_mutex_lock(&s->qlock);
  if (s->qtail) s->qtail->next = it; else s->qhead = it;
  s->qtail = it;
  uv_mutex_unlock(&s->qlock);
  /* A running job picks the item up (it drains until empty, checking under the lock); the
   * completion starts a new job if the item arrived after the job's last look. */
  if (!s->sending) {
    start_sender(env, s);
    if (!s->sending) {
      napi_throw_error(env, NULL, "sendAsync: cannot queue work");
      return NULL;
    }
  }
  return NULL;
}

/* poll(handle, on: boolean, ref: boolean): start/stop reading and (un)ref the event loop. */
static napi_value js_poll(napi_env env, napi_callback_info info) {
  size_t argc = 3;
  napi_value argv[3];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  nl_sock *s = get_sock(env, argv[0]);
  if (!s) return NULL;
  if (s->closed) return NULL;
  bool on = false, ref = false;
  napi_get_value_bool(env, argv[1], &on);
  napi_get_value_bool(env, argv[2], &ref);
  if (on && !s->polling) {
    int rc = uv_poll_start(&s->poll, UV_READABLE, on_readable);
    if (rc < 0) return throw_errno(env, "uv_poll_start", -rc);
    s->polling = 1;
  } else if (!on && s->polling) {
    uv_poll_stop(&s->poll);
    s->polling = 0;
  }
  if (ref)
    uv_ref((uv_handle_t *)&s->poll);
  else
    uv_unref((uv_handle_t *)&s->poll);
  return NULL;
}

/* drain(handle): read whatever is queued now, as if the socket had polled readable. A safety
 * net for the client's stall watchdog: replies queued but no readiness event seen. */
static napi_value js_drain(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  nl_sock *s = get_sock(env, argv[0]);
  if (!s) return NULL;
  if (!s->closed) on_readable(&s->poll, 0, UV_READABLE);
  return NULL;
}

static napi_value js_close(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  nl_sock *s = get_sock(env, argv[0]);
  if (!s) return NULL;
  sock_close(s, 0);
  return NULL;
}

void kite_register_tcp(napi_env env, napi_value exports); /* tcp.c */

static napi_value init(napi_env env, napi_value exports) {
  napi_property_descriptor props[] = {
      {"open", NULL, js_open, NULL, NULL, NULL, napi_default, NULL},
      {"send", NULL, js_send, NULL, NULL, NULL, napi_default, NULL},
      {"sendAsync", NULL, js_send_async, NULL, NULL, NULL, napi_default, NULL},
      {"poll", NULL, js_poll, NULL, NULL, NULL, napi_default, NULL},
      {"close", NULL, js_close, NULL, NULL, NULL, napi_default, NULL},
      {"drain", NULL, js_drain, NULL, NULL, NULL, napi_default, NULL},
  };
  napi_define_properties(env, exports, sizeof props / sizeof props[0], props);
  kite_register_tcp(env, exports);
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, init)
