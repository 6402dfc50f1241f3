// Elementwise kernels: unary ops, casts, broadcasting binary ops, the bias-add + activation
// fusion and the activations' gradients. Each computes what the CPU kernel in engine/ops computes,
// element by element.
#pragma once

#include "common.cuh"

template <typename T> __device__ inline T gb_exp(T x);
template <> __device__ inline float gb_exp(float x) { return expf(x); }
template <> __device__ inline double gb_exp(double x) { return exp(x); }

template <typename T> __device__ inline T gb_log1p(T x);
template <> __device__ inline float gb_log1p(float x) { return log1pf(x); }
template <> __device__ inline double gb_log1p(double x) { return log1p(x); }

template <typename T> __device__ inline T gb_unary_op(int32_t kind, T x, T alpha)
{
    switch (kind) {
    case GB_UNARY_NEG: return -x;
    case GB_UNARY_SQUARE: return x * x;
    case GB_UNARY_SQRT: return sqrt(x);
    case GB_UNARY_EXP: return gb_exp(x);
    case GB_UNARY_LOG: return log(x);
    case GB_UNARY_ABS: return x < 0 ? -x : x;
    case GB_UNARY_SIGN: return x == x ? (T)((x > 0) - (x < 0)) : x; // NaN stays NaN
    case GB_UNARY_RELU: return x < 0 ? (T)0 : x;
    case GB_UNARY_LEAKY_RELU: return x > 0 ? x : alpha * x;
    case GB_UNARY_SIGMOID: return x >= 0 ? 1 / (1 + gb_exp(-x)) : gb_exp(x) / (1 + gb_exp(x));
    case GB_UNARY_TANH: return tanh(x);
    default: return x;
    }
}

template <typename T> __device__ inline void gb_unary_loop(const gb_cu_unary &p)
{
    const T *x = (const T *)p.x;
    T *y = (T *)p.y;
    GB_GRID_LOOP(i, p.n) y[i] = gb_unary_op<T>(p.kind, x[i], (T)p.alpha);
}

// Two's complement wrap-around, as on the CPU: the arithmetic is done in the unsigned type U.
template <typename T, typename U> __device__ inline void gb_unary_int_loop(const gb_cu_unary &p)
{
    const T *x = (const T *)p.x;
    T *y = (T *)p.y;
    GB_GRID_LOOP(i, p.n)
    {
        T v = x[i];
        T negated = (T)((U)0 - (U)v);
        y[i] = p.kind == GB_UNARY_NEG ? negated : p.kind == GB_UNARY_SQUARE ? (T)((U)v * (U)v) : v < 0 ? negated : v;
    }
}

extern "C" __global__ void gb_k_unary(const gb_cu_unary p)
{
    switch (p.dtype) {
    case GB_F32: gb_unary_loop<float>(p); break;
    case GB_F64: gb_unary_loop<double>(p); break;
    case GB_I32: gb_unary_int_loop<int32_t, uint32_t>(p); break;
    case GB_I64: gb_unary_int_loop<int64_t, uint64_t>(p); break;
    default: break;
    }
}

// Floats outside an integer type's range saturate to its limits and NaN becomes 0, as on the CPU
// (ops/unary.c); other conversions are C's.
__device__ inline int32_t gb_float_to_i32(double v)
{
    return v != v ? 0 : v <= INT32_MIN ? INT32_MIN : v >= INT32_MAX ? INT32_MAX : (int32_t)v;
}

__device__ inline int64_t gb_float_to_i64(double v)
{
    const double two_63 = 9223372036854775808.0; // INT64_MAX + 1, exact in a double
    return v != v ? 0 : v < -two_63 ? INT64_MIN : v >= two_63 ? INT64_MAX : (int64_t)v;
}

template <typename D, typename S> __device__ inline D gb_convert(S v) { return (D)v; }
template <> __device__ inline int32_t gb_convert<int32_t, float>(float v) { return gb_float_to_i32(v); }
template <> __device__ inline int32_t gb_convert<int32_t, double>(double v) { return gb_float_to_i32(v); }
template <> __device__ inline int64_t gb_convert<int64_t, float>(float v) { return gb_float_to_i64(v); }
template <> __device__ inline int64_t gb_convert<int64_t, double>(double v) { return gb_float_to_i64(v); }

template <typename S, typename D> __device__ inline void gb_cast_loop(const void *x, void *y, int64_t n)
{
    GB_GRID_LOOP(i, n)((D *)y)[i] = gb_convert<D, S>(((const S *)x)[i]);
}

template <typename S> __device__ inline void gb_cast_from(const gb_cu_cast &p)
{
    switch (p.to) {
    case GB_F32: gb_cast_loop<S, float>(p.x, p.y, p.n); break;
    case GB_F64: gb_cast_loop<S, double>(p.x, p.y, p.n); break;
    case GB_I32: gb_cast_loop<S, int32_t>(p.x, p.y, p.n); break;
    case GB_I64: gb_cast_loop<S, int64_t>(p.x, p.y, p.n); break;
    case GB_BOOL: GB_GRID_LOOP(i, p.n)((uint8_t *)p.y)[i] = ((const S *)p.x)[i] != 0; break;
    default: break;
    }
}

extern "C" __global__ void gb_k_cast(const gb_cu_cast p)
{
    switch (p.from) {
    case GB_F32: gb_cast_from<float>(p); break;
    case GB_F64: gb_cast_from<double>(p); break;
    case GB_I32: gb_cast_from<int32_t>(p); break;
    case GB_I64: gb_cast_from<int64_t>(p); break;
    case GB_BOOL: gb_cast_from<uint8_t>(p); break;
    default: break;
    }
}

// The sigmoid cross-entropy of logits x and labels z and its gradient sigmoid(x) - z, the CPU's
// formulas (ops/nn.c) in the same precision.
template <typename F> __device__ inline F gb_sigmoid_xent(F x, F z)
{
    return ((x > 0 ? x : (F)0) - x * z) + gb_log1p(gb_exp(-(x < 0 ? -x : x)));
}

template <typename F> __device__ inline F gb_sigmoid_xent_grad(F x, F z)
{
    F e = gb_exp(-(x < 0 ? -x : x)), p = e / (1 + e);
    return x >= 0 ? (1 - z) - p : p - z;
}

// Integers wrap around in two's complement, as on the CPU: add, sub and mul in the unsigned type.
template <typename T> struct gb_arithmetic { typedef T type; };
template <> struct gb_arithmetic<int32_t> { typedef uint32_t type; };
template <> struct gb_arithmetic<int64_t> { typedef uint64_t type; };

// maximum and minimum give NaN when either side is NaN, as on the CPU.
template <typename T> __device__ inline T gb_binary_op(int32_t kind, T x, T y)
{
    typedef typename gb_arithmetic<T>::type U;
    switch (kind) {
    case GB_BINARY_ADD: return (T)((U)x + (U)y);
    case GB_BINARY_SUB: return (T)((U)x - (U)y);
    case GB_BINARY_MUL: return (T)((U)x * (U)y);
    case GB_BINARY_DIV: return x / y;
    case GB_BINARY_POW: return (T)pow((double)x, (double)y);
    case GB_BINARY_MAXIMUM: return x >= y || x != x ? x : y;
    case GB_BINARY_MINIMUM: return x <= y || x != x ? x : y;
    case GB_BINARY_SIGMOID_XENT: return (T)gb_sigmoid_xent<double>((double)x, (double)y); // float64 only
    case GB_BINARY_SIGMOID_XENT_GRAD: return (T)gb_sigmoid_xent_grad<double>((double)x, (double)y);
    case GB_BINARY_KEEP_WHERE: return y != 0 ? x : (T)0;
    default: return x;
    }
}

// pow in the input's own precision, as the CPU kernel (powf for float32)
template <> __device__ inline float gb_binary_op(int32_t kind, float x, float y)
{
    switch (kind) {
    case GB_BINARY_ADD: return x + y;
    case GB_BINARY_SUB: return x - y;
    case GB_BINARY_MUL: return x * y;
    case GB_BINARY_DIV: return x / y;
    case GB_BINARY_POW: return powf(x, y);
    case GB_BINARY_MAXIMUM: return x >= y || x != x ? x : y;
    case GB_BINARY_MINIMUM: return x <= y || x != x ? x : y;
    case GB_BINARY_SIGMOID_XENT: return gb_sigmoid_xent<float>(x, y);
    case GB_BINARY_SIGMOID_XENT_GRAD: return gb_sigmoid_xent_grad<float>(x, y);
    case GB_BINARY_KEEP_WHERE: return y != 0 ? x : 0.0f;
    default: return x;
    }
}

template <typename T> __device__ inline void gb_binary_loop(const gb_cu_binary &p)
{
    const T *a = (const T *)p.a, *b = (const T *)p.b;
    int compare = p.kind >= GB_BINARY_EQUAL;
    GB_GRID_LOOP(i, p.n)
    {
        int64_t ia = p.rank == 1 ? i * p.sa[0] : 0, ib = p.rank == 1 ? i * p.sb[0] : 0, rest = i;
        for (int32_t d = p.rank - 1; d >= 0 && p.rank > 1; d--) {
            int64_t c = rest % p.dim[d];
            rest /= p.dim[d];
            ia += c * p.sa[d], ib += c * p.sb[d];
        }
        T x = a[ia], y = b[ib];
        if (compare)
            ((uint8_t *)p.o)[i] = p.kind == GB_BINARY_EQUAL ? x == y : p.kind == GB_BINARY_GREATER ? x > y : x >= y;
        else
            ((T *)p.o)[i] = gb_binary_op<T>(p.kind, x, y);
    }
}

extern "C" __global__ void gb_k_binary(const gb_cu_binary p)
{
    switch (p.dtype) {
    case GB_F32: gb_binary_loop<float>(p); break;
    case GB_F64: gb_binary_loop<double>(p); break;
    case GB_I32: gb_binary_loop<int32_t>(p); break;
    case GB_I64: gb_binary_loop<int64_t>(p); break;
    case GB_BOOL: gb_binary_loop<uint8_t>(p); break;
    default: break;
    }
}

template <typename T> __device__ inline void gb_broadcast_loop(const gb_cu_broadcast &p)
{
    const T *x = (const T *)p.x;
    T *y = (T *)p.y;
    T scale = (T)p.scale;
    GB_GRID_LOOP(i, p.n) y[i] = x[gb_strided_offset(i, p.rank, p.dim, p.sx)] * scale;
}

GB_FLOAT_KERNEL(gb_k_broadcast, gb_cu_broadcast, gb_broadcast_loop)

template <typename T> __device__ inline void gb_bias_act_loop(const gb_cu_bias_act &p)
{
    const T *x = (const T *)p.x, *bias = (const T *)p.bias;
    T *y = (T *)p.y;
    int64_t n = p.rows * p.cols;
    if (n <= UINT32_MAX) { // the common case, with a 32-bit remainder: much shorter than a 64-bit one
        uint32_t cols = (uint32_t)p.cols;
        GB_GRID_LOOP(i, n) y[i] = gb_unary_op<T>(p.kind, x[i] + bias[(uint32_t)i % cols], (T)0);
    } else {
        GB_GRID_LOOP(i, n) y[i] = gb_unary_op<T>(p.kind, x[i] + bias[i % p.cols], (T)0);
    }
}

GB_FLOAT_KERNEL(gb_k_bias_act, gb_cu_bias_act, gb_bias_act_loop)

template <typename T> __device__ inline void gb_act_grad_loop(const gb_cu_act_grad &p)
{
    const T *a = (const T *)p.a, *b = (const T *)p.b;
    T *o = (T *)p.o;
    T alpha = (T)p.alpha;
    GB_GRID_LOOP(i, p.n)
    {
        T x = a[i], y = b[i];
        switch (p.kind) {
        case GB_ACTIVATION_RELU_GRAD: o[i] = y > 0 ? x : (T)0; break;
        case GB_ACTIVATION_LEAKY_RELU_GRAD: o[i] = y > 0 ? x : alpha * x; break;
        case GB_ACTIVATION_SIGMOID_GRAD: o[i] = y * x * (1 - x); break;
        default: o[i] = y * (1 - x * x); break;
        }
    }
}

GB_FLOAT_KERNEL(gb_k_act_grad, gb_cu_act_grad, gb_act_grad_loop)

// Fills (zeros, ones, OnesLike). AssignAdd goes with the batched updates (training.cuh).
template <typename T> __device__ inline void gb_fill_loop(const gb_cu_fill &p)
{
    T *y = (T *)p.y;
    T v = (T)p.value;
    GB_GRID_LOOP(i, p.n) y[i] = v;
}

extern "C" __global__ void gb_k_fill(const gb_cu_fill p)
{
    switch (p.dtype) {
    case GB_F32: gb_fill_loop<float>(p); break;
    case GB_F64: gb_fill_loop<double>(p); break;
    case GB_I32: gb_fill_loop<int32_t>(p); break;
    case GB_I64: gb_fill_loop<int64_t>(p); break;
    default: gb_fill_loop<uint8_t>(p); break;
    }
}
