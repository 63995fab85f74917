/* twshim stress tests — helpers shared by the stress client and server.
 *
 * The protocol is fixed and small so that the server can check that no
 * byte was lost: the client sends STRESS_REQ_LEN bytes, the server answers
 * one byte (which also acknowledges the request), then the server reads
 * until EOF or reset and counts every byte it got. */
#ifndef TWSHIM_STRESS_UTIL_H
#define TWSHIM_STRESS_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define STRESS_REQ_LEN 32

/* Parse a decimal number in [min, max] or exit(2) naming what it was. */
unsigned long stress_num(const char *s, unsigned long min, unsigned long max, const char *what);

/* Open fds of this process, counted from /proc/self/fd (minus the one the
 * count itself uses). */
int stress_fd_count(void);

/* Milliseconds of CLOCK_MONOTONIC. */
uint64_t stress_now_ms(void);

/* write/read the whole buffer, retrying EINTR; false on error or EOF. */
bool stress_write_all(int fd, const void *buf, size_t len);
bool stress_read_full(int fd, void *buf, size_t len);

/* A blocking TCP connect to 127.0.0.1:port that survives EINTR (a signal
 * handler may interrupt it: the connection then completes in the
 * background, so wait for it and read SO_ERROR).  Returns the fd, or -1
 * with errno set to the reason. */
int stress_connect(uint16_t port);

/* stress_connect, then send the request and read the one-byte answer.
 * Returns the connected fd, or -1 with errno set. */
int stress_exchange(uint16_t port);

#endif
