/*  kt.h - umbrella include: the only common header a process .c includes. */

#ifndef KT_H
#define KT_H

#include "kt_alert.h"
#include "kt_book.h"
#include "kt_bus.h"
#include "kt_cfg.h"
#include "kt_clock.h"
#include "kt_http.h"
#include "kt_instr.h"
#include "kt_ist.h"
#include "kt_log.h"
#include "kt_loop.h"
#include "kt_money.h"
#include "kt_msg.h"
#include "kt_proc.h"
#include "kt_reason.h"
#include "kt_recon.h"
#include "kt_schema.h"
#include "kt_store.h"

#endif
