//go:build cgo && amd64 && linux

package gogemm

/*
#cgo CFLAGS: -O3
#cgo LDFLAGS: -lm
#pragma GCC optimize ("no-math-errno")
#include <stdint.h>
#include <string.h>
#include <math.h>

// The row kernels of the element-wise host ops, compiled for AVX-512, AVX2 and plain x86-64
// (the loader picks the version for the CPU). They give the results of the Go kernels of
// hostelem.go bit for bit, but for sums (added in 16 lanes); Max and Min follow Go's max and
// min (NaN if either operand is NaN; +0 is larger than -0).
#define CLONES __attribute__((target_clones("avx512f", "avx2", "default")))

static inline float gomax(float x, float y) {
	float r = x > y ? x : y;
	if (x == y) { uint32_t a, b; memcpy(&a, &x, 4); memcpy(&b, &y, 4); a &= b; memcpy(&r, &a, 4); }
	if (x != x) r = x;
	if (y != y) r = y;
	return r;
}
static inline float gomin(float x, float y) {
	float r = x < y ? x : y;
	if (x == y) { uint32_t a, b; memcpy(&a, &x, 4); memcpy(&b, &y, 4); a |= b; memcpy(&r, &a, 4); }
	if (x != x) r = x;
	if (y != y) r = y;
	return r;
}

#define BINARY_LOOP(EXPR) for (long j = 0; j < n; j++) { float a = X, b = Y; z[j] = (EXPR); }
#define BINARY_CASES switch (op) { \
	case 0: BINARY_LOOP(a + b) break; case 1: BINARY_LOOP(a - b) break; \
	case 2: BINARY_LOOP(a * b) break; case 3: BINARY_LOOP(a / b) break; \
	case 4: BINARY_LOOP(gomax(a, b)) break; case 5: BINARY_LOOP(gomin(a, b)) break; }

CLONES void dcb_binary(int op, float* restrict z, const float* restrict x, const float* restrict y, long n) {
#define X x[j]
#define Y y[j]
	BINARY_CASES
#undef X
#undef Y
}
CLONES void dcb_binary_sl(int op, float* restrict z, float s, const float* restrict y, long n) {
#define X s
#define Y y[j]
	BINARY_CASES
#undef X
#undef Y
}
CLONES void dcb_binary_sr(int op, float* restrict z, const float* restrict x, float s, long n) {
#define X x[j]
#define Y s
	BINARY_CASES
#undef X
#undef Y
}
CLONES void dcb_unary(int op, float* restrict z, const float* restrict x, long n) {
	switch (op) {
	case 6: for (long j = 0; j < n; j++) z[j] = -x[j]; break;
	case 7: for (long j = 0; j < n; j++) z[j] = fabsf(x[j]); break;
	case 8: for (long j = 0; j < n; j++) z[j] = sqrtf(x[j]); break;
	}
}
#define COMPARE_CASES switch (op) { \
	case 9: CMP(a > b) break; case 10: CMP(a >= b) break; case 11: CMP(a < b) break; \
	case 12: CMP(a <= b) break; case 13: CMP(a == b) break; case 14: CMP(a != b) break; }
CLONES void dcb_compare(int op, uint8_t* restrict z, const float* restrict x, const float* restrict y, long n) {
#define CMP(E) for (long j = 0; j < n; j++) { float a = x[j], b = y[j]; z[j] = (E); }
	COMPARE_CASES
#undef CMP
}
CLONES void dcb_compare_s(int op, uint8_t* restrict z, const float* restrict x, float b, long n) {
#define CMP(E) for (long j = 0; j < n; j++) { float a = x[j]; z[j] = (E); }
	COMPARE_CASES
#undef CMP
}
CLONES void dcb_where(float* restrict z, const uint8_t* restrict c, const float* restrict x, const float* restrict y, long n) {
	for (long j = 0; j < n; j++) z[j] = (c[j] & 1) ? x[j] : y[j];
}
CLONES void dcb_where_s(float* restrict z, const uint8_t* restrict c, const float* restrict x, float y, long n) {
	for (long j = 0; j < n; j++) z[j] = (c[j] & 1) ? x[j] : y;
}
CLONES void dcb_add(float* restrict acc, const float* restrict v, long n) {
	for (long j = 0; j < n; j++) acc[j] += v[j];
}
CLONES void dcb_add_rows(float* restrict acc, const float* restrict v, long rows, long cols) {
	for (long r = 0; r < rows; r++) {
		const float* row = v + r * cols;
		for (long j = 0; j < cols; j++) acc[j] += row[j];
	}
}
CLONES float dcb_sum(const float* restrict v, long n) {
	float acc[16] = {0};
	long j = 0;
	for (; j + 16 <= n; j += 16)
		for (int k = 0; k < 16; k++) acc[k] += v[j + k];
	float s = 0;
	for (int k = 0; k < 16; k++) s += acc[k];
	for (; j < n; j++) s += v[j];
	return s;
}
*/
import "C"

import "unsafe"

// The row kernels of the element-wise host ops, in C (a cgo call each: rows of thousands of
// elements). The Go ones (hostelem.go) are used without cgo, and by the tests to check these.

// KernelsName names the element-wise kernels in use.
const KernelsName = "C (AVX-512, AVX2 or x86-64, as the CPU runs)"

// minCRow is the shortest row handed to C: below it a cgo call costs more than the loop.
const minCRow = 256

func f32p(x []float32) *C.float { return (*C.float)(unsafe.Pointer(unsafe.SliceData(x))) }

func u8p(x []bool) *C.uint8_t { return (*C.uint8_t)(unsafe.Pointer(unsafe.SliceData(x))) }

func unaryRow(op elemOp, z, x []float32) {
	if len(z) < minCRow {
		goUnary(op, z, x)
		return
	}
	C.dcb_unary(C.int(op), f32p(z), f32p(x[:len(z)]), C.long(len(z)))
}

func binaryRow(op elemOp, z, x, y []float32, xs, ys bool) {
	n := len(z)
	if n < minCRow {
		goBinary(op, z, x, y, xs, ys)
		return
	}
	switch {
	case xs:
		C.dcb_binary_sl(C.int(op), f32p(z), C.float(x[0]), f32p(y[:n]), C.long(n))
	case ys:
		C.dcb_binary_sr(C.int(op), f32p(z), f32p(x[:n]), C.float(y[0]), C.long(n))
	default:
		C.dcb_binary(C.int(op), f32p(z), f32p(x[:n]), f32p(y[:n]), C.long(n))
	}
}

func compareRow(op elemOp, z []bool, x, y []float32, ys bool) {
	n := len(z)
	if n < minCRow {
		goCompare(op, z, x, y, ys)
		return
	}
	if ys {
		C.dcb_compare_s(C.int(op), u8p(z), f32p(x[:n]), C.float(y[0]), C.long(n))
		return
	}
	C.dcb_compare(C.int(op), u8p(z), f32p(x[:n]), f32p(y[:n]), C.long(n))
}

func whereRow(z []float32, c []bool, x, y []float32, ys bool) {
	n := len(z)
	if n < minCRow {
		goWhere(z, c, x, y, ys)
		return
	}
	if ys {
		C.dcb_where_s(f32p(z), u8p(c[:n]), f32p(x[:n]), C.float(y[0]), C.long(n))
		return
	}
	C.dcb_where(f32p(z), u8p(c[:n]), f32p(x[:n]), f32p(y[:n]), C.long(n))
}

func addRow(acc, v []float32) {
	if len(v) < minCRow {
		goAdd(acc, v)
		return
	}
	C.dcb_add(f32p(acc[:len(v)]), f32p(v), C.long(len(v)))
}

func addRows(acc, v []float32, rows, cols int) {
	if rows*cols < minCRow {
		goAddRows(acc, v, rows, cols)
		return
	}
	C.dcb_add_rows(f32p(acc[:cols]), f32p(v[:rows*cols]), C.long(rows), C.long(cols))
}

func sumRow(v []float32) float32 {
	if len(v) < minCRow {
		return goSum(v)
	}
	return float32(C.dcb_sum(f32p(v), C.long(len(v))))
}
