/*  kt_testnet - TCP helpers for tests: a free 127.0.0.1 port, and whether one accepts. */

#ifndef KT_TESTNET_H
#define KT_TESTNET_H

#include <stdbool.h>

//  A TCP port on 127.0.0.1 that was free a moment ago (bound and released), or -1.
int kt_testnet_free_port (void);

//  True if a TCP connect to 127.0.0.1:port succeeds now.
bool kt_testnet_port_open (int port);

#endif
