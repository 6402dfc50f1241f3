/* PR curves: TensorBoard's counts at each threshold (plugin "pr_curves", float32 [6, k]). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gradboard/summaries.h"
#include "internal/error.h"
#include "internal/writer_impl.h"
#include "plugin_data.pb-c.h"

gb_status gb_summary_pr_curve(gb_writer *w, const char *tag, int64_t step, const uint8_t *labels,
                              const float *predictions, size_t n, int num_thresholds)
{
    int k = num_thresholds ? num_thresholds : GB_PR_DEFAULT_THRESHOLDS;
    if (!tag || k < 2 || k > 100000 || ((!labels || !predictions) && n))
        return gb_fail(GB_EINVAL, "pr curve %s: bad arguments (thresholds %d, 2..100000)", tag ? tag : "", k);
    double *tp = calloc((size_t)k, sizeof *tp), *fp = calloc((size_t)k, sizeof *fp);
    float *rows = malloc((size_t)k * 6 * sizeof *rows);
    char *full_tag = malloc(strlen(tag) + 12);
    gb_status st = GB_OK;
    if (!tp || !fp || !rows || !full_tag) {
        st = gb_fail(GB_ENOMEM, "pr curve %s: out of memory", tag);
        goto done;
    }
    /* Bucket floor(p * (k - 1)), computed as TensorBoard's NumPy code computes it: in float32, so
     * that a prediction rounding onto an edge (0.7f * 10 is 7.0f, though 6.99999988 in double)
     * lands in the same bucket. Buckets outside 0..k-1 (predictions outside [0, 1], NaN) count
     * nowhere, as in its histogram over that range. */
    const float scale = (float)(k - 1);
    for (size_t i = 0; i < n; i++) {
        float b = floorf(predictions[i] * scale);
        if (!(b >= 0 && b <= scale)) continue;
        if (labels[i])
            tp[(int)b] += 1;
        else
            fp[(int)b] += 1;
    }
    for (int i = k - 2; i >= 0; i--) tp[i] += tp[i + 1], fp[i] += fp[i + 1]; /* counts at or above threshold i */
    for (int i = 0; i < k; i++) {
        double tn = fp[0] - fp[i], fn = tp[0] - tp[i];
        rows[i] = (float)tp[i];
        rows[k + i] = (float)fp[i];
        rows[2 * k + i] = (float)tn;
        rows[3 * k + i] = (float)fn;
        rows[4 * k + i] = (float)(tp[i] / fmax(1e-7, tp[i] + fp[i]));
        rows[5 * k + i] = (float)(tp[i] / fmax(1e-7, tp[i] + fn));
    }
    sprintf(full_tag, "%s/pr_curves", tag);
    Gbpb__TensorShapeProto__Dim dims[2] = {GBPB__TENSOR_SHAPE_PROTO__DIM__INIT, GBPB__TENSOR_SHAPE_PROTO__DIM__INIT};
    dims[0].size = 6;
    dims[1].size = k;
    Gbpb__TensorShapeProto__Dim *dim_ptrs[2] = {&dims[0], &dims[1]};
    Gbpb__TensorShapeProto shape = GBPB__TENSOR_SHAPE_PROTO__INIT;
    shape.n_dim = 2;
    shape.dim = dim_ptrs;
    Gbpb__TensorProto tensor = GBPB__TENSOR_PROTO__INIT;
    tensor.dtype = GBPB__DATA_TYPE__DT_FLOAT;
    tensor.tensor_shape = &shape;
    tensor.tensor_content.data = (uint8_t *)rows;
    tensor.tensor_content.len = (size_t)k * 6 * sizeof *rows;
    Gbpb__PrCurvePluginData content = GBPB__PR_CURVE_PLUGIN_DATA__INIT;
    content.num_thresholds = (uint32_t)k;
    uint8_t content_bytes[16];
    size_t content_len = gbpb__pr_curve_plugin_data__pack(&content, content_bytes);
    st = gb_writer_write_tensor_value(w, step, full_tag, &tensor, "pr_curves", content_bytes, content_len,
                                      GBPB__DATA_CLASS__DATA_CLASS_TENSOR);
done:
    free(tp), free(fp), free(rows), free(full_tag);
    return st;
}
