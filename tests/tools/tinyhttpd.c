/*
 * tinyhttpd.c - a minimal loopback HTTP server for the tests: answers
 * every request with 200 and the body "hello PATH" (Connection: close).
 * Listens on 127.0.0.1 only.
 *
 *   tinyhttpd --port-file FILE [--count N] [--delay MS]
 *
 * The chosen port is written to FILE once the socket listens.  Serves N
 * requests (default: until killed), one at a time, each after waiting
 * MS milliseconds (default 0) once its head has arrived.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/socket.h>
#include <unistd.h>

/* Read the request head (up to the blank line); 0 or -1. */
static int read_head(int fd, char *buf, size_t len)
{
  size_t got = 0;

  while(got + 1 < len) {
    ssize_t n = read(fd, buf + got, len - 1 - got);
    if(n <= 0)
      return -1;
    got += (size_t)n;
    buf[got] = 0;
    if(strstr(buf, "\r\n\r\n"))
      return 0;
  }
  return -1;
}

static long delay_ms;

static void serve(int fd)
{
  char head[8192], path[2048] = "/", body[4096], out[8192];
  int n;

  if(read_head(fd, head, sizeof(head)))
    return;
  if(delay_ms > 0) {
    struct timespec ts;
    ts.tv_sec = delay_ms / 1000;
    ts.tv_nsec = (delay_ms % 1000) * 1000000L;
    nanosleep(&ts, NULL);
  }
  if(sscanf(head, "%*s %2047s", path) != 1)
    snprintf(path, sizeof(path), "/");
  n = snprintf(body, sizeof(body), "hello %s", path);
  if(n < 0 || (size_t)n >= sizeof(body))
    return;
  n = snprintf(out, sizeof(out),
               "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n"
               "Content-Length: %d\r\nConnection: close\r\n\r\n%s",
               n, body);
  if(n > 0 && (size_t)n < sizeof(out) && write(fd, out, (size_t)n) < 0)
    perror("tinyhttpd: write");
}

int main(int argc, char **argv)
{
  const char *port_file = NULL;
  long count = -1;
  struct sockaddr_in sa;
  socklen_t salen = sizeof(sa);
  int s, i, one = 1;
  FILE *f;

  for(i = 1; i < argc; i++) {
    if(!strcmp(argv[i], "--port-file") && i + 1 < argc)
      port_file = argv[++i];
    else if(!strcmp(argv[i], "--count") && i + 1 < argc)
      count = atol(argv[++i]);
    else if(!strcmp(argv[i], "--delay") && i + 1 < argc)
      delay_ms = atol(argv[++i]);
    else {
      fprintf(stderr, "usage: tinyhttpd --port-file FILE [--count N] "
              "[--delay MS]\n");
      return 2;
    }
  }
  if(!port_file) {
    fprintf(stderr, "usage: tinyhttpd --port-file FILE [--count N]\n");
    return 2;
  }
  signal(SIGPIPE, SIG_IGN);
  s = socket(AF_INET, SOCK_STREAM, 0);
  if(s < 0) {
    perror("tinyhttpd: socket");
    return 1;
  }
  setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
  memset(&sa, 0, sizeof(sa));
  sa.sin_family = AF_INET;
  sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  sa.sin_port = 0;
  if(bind(s, (struct sockaddr *)&sa, sizeof(sa)) || listen(s, 128) ||
     getsockname(s, (struct sockaddr *)&sa, &salen)) {
    perror("tinyhttpd: bind/listen");
    return 1;
  }
  f = fopen(port_file, "w");
  if(!f || fprintf(f, "%d\n", ntohs(sa.sin_port)) < 0 || fclose(f)) {
    perror("tinyhttpd: port file");
    return 1;
  }
  while(count < 0 || count-- > 0) {
    int c = accept(s, NULL, NULL);
    if(c < 0)
      continue;
    serve(c);
    close(c);
  }
  close(s);
  return 0;
}
