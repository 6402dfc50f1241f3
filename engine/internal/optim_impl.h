/* Private: the update ops optim.c adds and optim_apply.c runs. */
#ifndef GB_ENGINE_OPTIM_IMPL_H
#define GB_ENGINE_OPTIM_IMPL_H

#include "internal/op.h"

extern const gb_op_def gb_op_apply_sgd;      /* w -= lr g */
extern const gb_op_def gb_op_apply_momentum; /* slots: accumulator; alpha momentum, flag nesterov */
extern const gb_op_def gb_op_apply_adam;     /* slots: m, v, beta1_power, beta2_power; alpha beta1,
                                              * beta beta2, epsilon, delta decoupled weight decay */
extern const gb_op_def gb_op_apply_rmsprop;  /* slots: ms, mom; alpha rho, beta momentum, epsilon */
extern const gb_op_def gb_op_apply_adagrad;  /* slots: accumulator */

/* ApplyGradientDescent of a gradient g = MatMul(a, b) that nothing else reads: w -= lr a b as one
 * GEMM into the variable (C += alpha A B with alpha = -lr), so g is never written and w is
 * read and written once (plan.c fuses them on the CPU). k is the update's arguments. */
gb_status gb_apply_sgd_matmul_forward(const gb_kernel_args *k, const gb_node *matmul, const gb_tensor *a,
                                      const gb_tensor *b);

#endif
