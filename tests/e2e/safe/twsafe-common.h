/* twsafe-common — small pieces shared by the TWSHIM_LINGER=safe test helpers. */
#ifndef TWSAFE_COMMON_H
#define TWSAFE_COMMON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/socket.h>

/* FNV-1a, 64 bit: the checksum tests/helpers/twtest-server.c prints. */
#define TWSAFE_FNV_INIT 0xcbf29ce484222325ULL
void twsafe_fnv(uint64_t *h, const void *p, size_t n);

/* Fill buf with the test pattern for stream offsets [off, off + n). */
void twsafe_pattern(unsigned char *buf, size_t n, uint64_t off);

/* Numeric IPv4 or IPv6 address and port into *ss; false if addr is neither. */
bool twsafe_sockaddr(const char *addr, unsigned port, struct sockaddr_storage *ss,
		     socklen_t *len);

/* A blocking TCP socket connected to addr:port (numeric IPv4 or IPv6), or
 * -1 with errno set by the call that failed. */
int twsafe_connect(const char *addr, unsigned port);

/* The socket's local port, or 0. */
unsigned twsafe_local_port(int fd);

/* Write n pattern bytes; returns bytes written and updates *fnv. */
uint64_t twsafe_send_pattern(int fd, uint64_t n, uint64_t *fnv);

/* Same through a stdio stream, without flushing it. */
uint64_t twsafe_fwrite_pattern(FILE *f, uint64_t n, uint64_t *fnv);

/* strtoul with end and range checks; exits 2 on a bad value. */
unsigned long twsafe_num(const char *prog, const char *s, unsigned long max);

#endif
