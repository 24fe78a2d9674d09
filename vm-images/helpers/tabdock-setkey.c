/*
 * tabdock-setkey: what dockerd's `libnetwork-setkey` prestart hook does, without starting dockerd again.
 *
 * For every container with a network namespace of its own, dockerd (moby 26, daemon/oci_linux.go) adds an OCI
 * prestart hook that runs its own 66 MB binary (/proc/<dockerd pid>/exe libnetwork-setkey -exec-root=DIR
 * CONTAINER_ID CONTROLLER_ID). That re-exec only reads the container's state (JSON with its pid) from stdin,
 * connects to DIR/libnetwork/CONTROLLER_ID.sock and sends {"ContainerID":...,"Key":"/proc/PID/ns/net"}; dockerd
 * answers "success" or an error text (moby libnetwork/sandbox_externalkey_unix.go). On v86's emulated CPU the
 * re-exec costs seconds per container; this static program does the same exchange in milliseconds.
 * tabdock-runtime (the OCI runtime dockerd calls) puts this program in the hook's place, keeping its arguments.
 *
 * Exit status 0 when dockerd answered "success"; otherwise 1 with dockerd's (or our) reason on stderr, which
 * the runtime reports as the hook's failure, as it would for dockerd's own hook.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#define STATE_MAX (64 * 1024)

static int fail(const char *what, const char *detail) {
  fprintf(stderr, "tabdock-setkey: %s%s%s\n", what, detail ? ": " : "", detail ? detail : "");
  return 1;
}

/* Container and controller ids are hex; anything else would need JSON escaping and is refused. */
static int plain_id(const char *id) {
  if (*id == '\0') return 0;
  for (const char *c = id; *c; c++)
    if (!((*c >= '0' && *c <= '9') || (*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') || *c == '_' || *c == '-' || *c == '.')) return 0;
  return 1;
}

/* The value of the state's top-level "pid" (runtime-spec "State"): the first `"pid"` key followed by a number. */
static long state_pid(const char *state) {
  for (const char *at = strstr(state, "\"pid\""); at; at = strstr(at + 1, "\"pid\"")) {
    const char *p = at + 5;
    while (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r') p++;
    if (*p != ':') continue;
    p++;
    while (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r') p++;
    char *end;
    long pid = strtol(p, &end, 10);
    if (end != p && pid > 0) return pid;
  }
  return -1;
}

int main(int argc, char **argv) {
  const char *exec_root = "/run/docker";
  const char *ids[2];
  int nids = 0;
  /* argv[0] is "libnetwork-setkey" (the hook keeps dockerd's arguments); Go's flag package also accepts
   * --exec-root and a separate value. */
  for (int i = 1; i < argc; i++) {
    const char *arg = argv[i];
    if (strncmp(arg, "-exec-root=", 11) == 0) exec_root = arg + 11;
    else if (strncmp(arg, "--exec-root=", 12) == 0) exec_root = arg + 12;
    else if ((strcmp(arg, "-exec-root") == 0 || strcmp(arg, "--exec-root") == 0) && i + 1 < argc) exec_root = argv[++i];
    else if (nids < 2) ids[nids++] = arg;
  }
  if (nids < 2) return fail("expected <container-id> <controller-id> after the flags", NULL);
  if (!plain_id(ids[0]) || !plain_id(ids[1])) return fail("unexpected characters in an id", NULL);

  static char state[STATE_MAX + 1];
  size_t used = 0;
  for (;;) {
    ssize_t n = read(0, state + used, STATE_MAX - used);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return fail("reading the container state", strerror(errno));
    if (n == 0) break;
    used += (size_t)n;
    if (used == STATE_MAX) return fail("the container state is larger than expected", NULL);
  }
  state[used] = '\0';
  long pid = state_pid(state);
  if (pid < 0) return fail("no pid in the container state", NULL);

  struct sockaddr_un address = {.sun_family = AF_UNIX};
  int length = snprintf(address.sun_path, sizeof address.sun_path, "%s/libnetwork/%s.sock", exec_root, ids[1]);
  if (length < 0 || (size_t)length >= sizeof address.sun_path) return fail("the socket path is too long", exec_root);
  int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return fail("socket", strerror(errno));
  if (connect(fd, (struct sockaddr *)&address, sizeof address) != 0) return fail(address.sun_path, strerror(errno));

  char message[512];
  int size = snprintf(message, sizeof message, "{\"ContainerID\":\"%s\",\"Key\":\"/proc/%ld/ns/net\"}\n", ids[0], pid);
  if (size < 0 || (size_t)size >= sizeof message) return fail("the container id is too long", NULL);
  for (int sent = 0; sent < size;) {
    ssize_t n = write(fd, message + sent, (size_t)(size - sent));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return fail("sending the key to dockerd", strerror(errno));
    sent += (int)n;
  }
  /* dockerd answers once and closes: one read, as moby's processReturn does. */
  char answer[1025];
  ssize_t n;
  do n = read(fd, answer, sizeof answer - 1); while (n < 0 && errno == EINTR);
  if (n < 0) return fail("reading dockerd's answer", strerror(errno));
  answer[n] = '\0';
  close(fd);
  if (strcmp(answer, "success") == 0) return 0;
  fprintf(stderr, "%s\n", answer);
  return 1;
}
