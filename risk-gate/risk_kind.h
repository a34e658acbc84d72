/*  risk_kind - kinds of intent, by what they do to risk. */

#ifndef RISK_KIND_H
#define RISK_KIND_H

//  Kinds of intent, by what they do to risk.
typedef enum {
    RISK_KIND_NONE = 0,
    RISK_KIND_ENTRY,        //  ENTRY: adds risk
    RISK_KIND_MODIFY_ENTRY, //  MODIFY of an open entry order: may add risk
    RISK_KIND_EXIT,         //  EXIT or STOP: reduces a position
    RISK_KIND_MODIFY,       //  MODIFY of anything else (stops, exits)
    RISK_KIND_CANCEL,
    RISK_KIND_FLATTEN
} risk_kind_t;

//  Name of a kind ("entry", "modify_entry", "exit", "modify", "cancel", "flatten").
const char *risk_kind_str (risk_kind_t kind);
risk_kind_t risk_kind_parse (const char *s);

#endif
