/* qir/qir.h - everything a plugin or an embedder needs. */
#ifndef QIR_QIR_H
#define QIR_QIR_H

#include "qir/context.h"
#include "qir/types.h"
#include "qir/attrs.h"
#include "qir/ir.h"
#include "qir/builder.h"
#include "qir/io.h"
#include "qir/pass.h"

#define QIR_VERSION_STRING "0.1.0"
#endif
