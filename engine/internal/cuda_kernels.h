/* Private: the CUDA forward functions of the ops (engine/device/cuda/cuda_ops_*.c), named in the
 * op tables with GB_CUDA_KERNEL so that a build without CUDA references none of them. Each takes
 * the op's kernel arguments with device pointers and enqueues its work on the session's stream. */
#ifndef GB_ENGINE_CUDA_KERNELS_H
#define GB_ENGINE_CUDA_KERNELS_H

#include "internal/op.h"

gb_status gb_cuda_unary_forward(const gb_kernel_args *k);
gb_status gb_cuda_cast_forward(const gb_kernel_args *k);
gb_status gb_cuda_binary_forward(const gb_kernel_args *k);
gb_status gb_cuda_activation_grad_forward(const gb_kernel_args *k);
gb_status gb_cuda_reduce_forward(const gb_kernel_args *k);
gb_status gb_cuda_reduce_to_forward(const gb_kernel_args *k);
gb_status gb_cuda_broadcast_like_forward(const gb_kernel_args *k);
gb_status gb_cuda_matmul_forward(const gb_kernel_args *k);
gb_status gb_cuda_softmax_forward(const gb_kernel_args *k);
gb_status gb_cuda_sparse_xent_forward(const gb_kernel_args *k);
gb_status gb_cuda_sparse_xent_grad_forward(const gb_kernel_args *k);
gb_status gb_cuda_dense_xent_forward(const gb_kernel_args *k);
gb_status gb_cuda_dropout_forward(const gb_kernel_args *k);
gb_status gb_cuda_one_hot_forward(const gb_kernel_args *k);
gb_status gb_cuda_argmax_forward(const gb_kernel_args *k);
gb_status gb_cuda_transpose_forward(const gb_kernel_args *k);
gb_status gb_cuda_slice_forward(const gb_kernel_args *k);
gb_status gb_cuda_slice_grad_forward(const gb_kernel_args *k);
gb_status gb_cuda_concat_forward(const gb_kernel_args *k);
gb_status gb_cuda_gather_forward(const gb_kernel_args *k);
gb_status gb_cuda_gather_grad_forward(const gb_kernel_args *k);
/* The device scratch memory gb_cuda_gather_grad_forward needs (the session's while a plan runs). */
size_t gb_cuda_gather_grad_scratch(const gb_kernel_args *k);
gb_status gb_cuda_assign_forward(const gb_kernel_args *k);
gb_status gb_cuda_snapshot_forward(const gb_kernel_args *k);
gb_status gb_cuda_assign_add_forward(const gb_kernel_args *k);
gb_status gb_cuda_ones_like_forward(const gb_kernel_args *k);
gb_status gb_cuda_noop_forward(const gb_kernel_args *k);
gb_status gb_cuda_schedule_forward(const gb_kernel_args *k);
gb_status gb_cuda_apply_sgd_forward(const gb_kernel_args *k);
gb_status gb_cuda_apply_momentum_forward(const gb_kernel_args *k);
gb_status gb_cuda_apply_adam_forward(const gb_kernel_args *k);
gb_status gb_cuda_apply_rmsprop_forward(const gb_kernel_args *k);
gb_status gb_cuda_apply_adagrad_forward(const gb_kernel_args *k);

/* v = v * factor for a fused Assign (see gb_scale_variable_forward), queued with the updates. */
gb_status gb_cuda_scale_variable_forward(const gb_kernel_args *k, const gb_tensor *factor);

/* act(x + bias) for a fused bias add (see gb_bias_activation_forward), device pointers. */
gb_status gb_cuda_bias_activation_forward(gb_session *s, const gb_node *activation, const gb_tensor *x,
                                          const gb_tensor *bias, gb_tensor *out);

#endif
