/* frontends/qir/text.c - lexical rules and float conversions that the
 * parser and the printer must agree on. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "frontends/qir/text.h"

const bool qir_text_name_chars[256] = {
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 0,
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0,
    0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 1,
    0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
};

bool qir_text_is_bare_ident(const char *s, size_t n) {
  if (n == 0)
    return false;
  unsigned char c = (unsigned char)s[0];
  if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_'))
    return false;
  for (size_t i = 1; i < n; i++)
    if (!qir_text_is_name_char((unsigned char)s[i]))
      return false;
  if ((n == 3 && memcmp(s, "inf", 3) == 0) || (n == 3 && memcmp(s, "nan", 3) == 0))
    return false;
  return true;
}

uint16_t qir_text_read_f16(const char *s) {
  return qir_f32_to_f16(strtof(s, NULL));
}

uint16_t qir_text_read_bf16(const char *s) {
  return qir_f32_to_bf16(strtof(s, NULL));
}

size_t qir_text_ensure_float_form(char *buf, size_t len) {
  for (size_t i = 0; i < len; i++)
    if (buf[i] == '.' || buf[i] == 'e' || buf[i] == 'n' || buf[i] == 'i')
      return len;
  buf[len++] = '.';
  buf[len++] = '0';
  buf[len] = '\0';
  return len;
}

static int format_integral(double v, char *buf, size_t n);
static bool is_small_integral(double v);

/* Shortest "%.*g" text (1 to 9 significant digits) that reads back to the
 * same half / bfloat16 bits. */
int qir_text_format_half(uint16_t bits, bool bf16, char *buf, size_t n) {
  char tmp[48];
  float f = bf16 ? qir_bf16_to_f32(bits) : qir_f16_to_f32(bits);
  if (isnan(f)) {
    snprintf(tmp, sizeof tmp, "nan");
  } else if (isinf(f)) {
    snprintf(tmp, sizeof tmp, f < 0 ? "-inf" : "inf");
  } else if (is_small_integral(f)) {
    format_integral(f, tmp, sizeof tmp);
  } else {
    for (int prec = 1; prec <= 9; prec++) {
      snprintf(tmp, sizeof tmp, "%.*g", prec, (double)f);
      uint16_t back = bf16 ? qir_text_read_bf16(tmp) : qir_text_read_f16(tmp);
      if (back == bits)
        break;
    }
    qir_text_ensure_float_form(tmp, strlen(tmp));
  }
  return snprintf(buf, n, "%s", tmp);
}

/* Integral values below 1e15 print as digits and ".0" (exact, and how
 * people write them); the rest takes the shortest round-trip form. */
static int format_integral(double v, char *buf, size_t n) {
  if (v == 0)
    return snprintf(buf, n, signbit(v) ? "-0.0" : "0.0");
  char tmp[24];
  int i = sizeof tmp;
  uint64_t u = (uint64_t)(v < 0 ? -v : v);
  tmp[--i] = '0';
  tmp[--i] = '.';
  do {
    tmp[--i] = (char)('0' + u % 10);
    u /= 10;
  } while (u);
  if (v < 0)
    tmp[--i] = '-';
  int len = (int)sizeof tmp - i;
  if ((size_t)len < n) {
    memcpy(buf, tmp + i, (size_t)len);
    buf[len] = '\0';
  }
  return len;
}

static bool is_small_integral(double v) {
  return v > -1e15 && v < 1e15 && v == (double)(int64_t)v;
}

int qir_text_format_double(double v, char *buf, size_t n) {
  if (is_small_integral(v))
    return format_integral(v, buf, n);
  return qir_format_double(v, buf, n);
}

int qir_text_format_float(float v, char *buf, size_t n) {
  if (is_small_integral(v))
    return format_integral(v, buf, n);
  return qir_format_float(v, buf, n);
}
