#ifndef CORRAL_CLIBXML2_SHIM_H
#define CORRAL_CLIBXML2_SHIM_H
#include <libxml/xmlversion.h>
// Debian builds libxml2 with ICU; its headers clash with Foundation's copy of ICU in the same module.
// We never touch the encoding-handler internals, so hiding ICU is safe.
#undef LIBXML_ICU_ENABLED
#include <libxml/parser.h>
#include <libxml/tree.h>
#include <libxml/xmlerror.h>
#include <libxml/xmlschemas.h>
#include <libxml/catalog.h>
#include <libxml/xmlreader.h>

// xmlFree is a global function pointer, which Swift 6 rejects as shared mutable state.
static inline void corral_xmlFree(void *p) { xmlFree(p); }
#endif
