/*  kt_testwss - a TLS WebSocket peer that speaks Kite's ticker, for testing a wss://
 *  client: certificates made at test time with the openssl command (a test CA and a
 *  server certificate it signs for given host names), and a server in a child process
 *  that, once the client sent its subscribe and mode messages, writes a binary frame
 *  of full packets for the subscribed tokens every 50 ms (cumulative volume rising by
 *  one per frame, exchange time now). The child dies with the test
 *  (PR_SET_PDEATHSIG). */

#ifndef KT_TESTWSS_H
#define KT_TESTWSS_H

#include <stddef.h>
#include <sys/types.h>

//  A self-signed CA: dir/name.key and dir/name.pem. Returns 0, or -1 (the openssl
//  command failed or is missing; its output is on stderr).
int kt_testwss_make_ca (const char *dir, const char *name);

//  A server key and certificate dir/name.key, dir/name.pem signed by the CA dir/ca.*,
//  valid for san (the subjectAltName value, e.g. "DNS:localhost,IP:127.0.0.1").
//  Returns 0 or -1.
int kt_testwss_make_cert (const char *dir, const char *ca, const char *name, const char *san);

//  Serve wss on 127.0.0.1:port with cert and key (PEM paths). Returns the child's pid
//  once the port accepts connections, or -1 (it did not come up in 5 s).
pid_t kt_testwss_start (int port, const char *cert, const char *key);

//  Kill and reap the server. Safe on -1.
void kt_testwss_stop (pid_t pid);

#endif
