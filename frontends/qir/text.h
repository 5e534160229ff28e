/* frontends/qir/text.h - private declarations shared by the .qir scanner,
 * parser and printer (ir/print.c).  Not part of the public API. */
#ifndef QIR_FRONTENDS_QIR_TEXT_H
#define QIR_FRONTENDS_QIR_TEXT_H

#include "qir/limits.h"
#include "qir/qir.h"

/* A piece of the source text (not NUL-terminated). */
typedef struct qir_slice {
  const char *s;
  size_t n;
} qir_slice;

/* A position in the source: 1-based line and byte column. */
typedef struct qir_pos {
  unsigned line, col;
} qir_pos;

/* Limits that keep hostile input from exhausting the stack or memory
 * (qir/limits.h). */
#define QIR_TEXT_MAX_NESTING QIR_MAX_NESTING
#define QIR_TEXT_MAX_ELEMENTS QIR_MAX_ELEMENTS

/* Name characters of %values and @symbols: [A-Za-z0-9_.$-]. */
extern const bool qir_text_name_chars[256];
static inline bool qir_text_is_name_char(int c) {
  return qir_text_name_chars[(unsigned char)c];
}
/* True when s[0..n) lexes as one bare identifier token that the grammar
 * accepts as an attribute or resource name:
 * [A-Za-z_][A-Za-z0-9_.$-]*, other than the float words inf and nan. */
bool qir_text_is_bare_ident(const char *s, size_t n);

/* Float conversions of dense elements and attributes.  The parser reads
 * text with these and the printer searches for the shortest text that they
 * read back to the same bits, which makes print(parse(x)) a fixed point. */
uint16_t qir_text_read_f16(const char *s);
uint16_t qir_text_read_bf16(const char *s);
/* Shortest text of a half / bfloat16 value, always with '.' or 'e' (or
 * inf, -inf, nan).  Writes like snprintf into buf (size >= 32). */
int qir_text_format_half(uint16_t bits, bool bf16, char *buf, size_t n);
/* Round-trip text of doubles and floats: integral values below 1e15 as
 * "12.0", others as qir_format_double / qir_format_float give them. */
int qir_text_format_double(double v, char *buf, size_t n);
int qir_text_format_float(float v, char *buf, size_t n);
/* Adds ".0" when a %g-style number has neither '.', 'e', "inf" nor
 * "nan"; returns the new length.  buf must have room for 2 more bytes. */
size_t qir_text_ensure_float_form(char *buf, size_t len);

#endif
