#include "dataset.h"

#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

const char *const fm_class_names[FM_CLASSES] = {"T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
                                                "Sandal",      "Shirt",   "Sneaker",  "Bag",   "Ankle boot"};

static int load_one(const char *dir, const char *file, int rank, fm_idx *out, char *err, size_t err_size)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, file);
    struct stat st;
    if (stat(path, &st) != 0) {
        snprintf(err, err_size,
                 "%s is missing: install the Debian package %s (sudo apt-get install %s) "
                 "or point --data at a directory holding the Fashion-MNIST .gz files",
                 path, FM_DEBIAN_PACKAGE, FM_DEBIAN_PACKAGE);
        return -1;
    }
    return fm_idx_load(path, rank, out, err, err_size);
}

static int check_pair(const fm_idx *images, const fm_idx *labels, const char *which, char *err, size_t err_size)
{
    if (images->dims[1] != FM_SIDE || images->dims[2] != FM_SIDE) {
        snprintf(err, err_size, "the %s images are %ux%u, not %dx%d", which, images->dims[1], images->dims[2],
                 FM_SIDE, FM_SIDE);
        return -1;
    }
    if (images->dims[0] != labels->dims[0]) {
        snprintf(err, err_size, "%u %s images but %u labels", images->dims[0], which, labels->dims[0]);
        return -1;
    }
    if (images->dims[0] == 0) {
        snprintf(err, err_size, "the %s set is empty", which);
        return -1;
    }
    for (size_t i = 0; i < labels->count; i++)
        if (labels->data[i] >= FM_CLASSES) {
            snprintf(err, err_size, "%s label %zu is %u, outside 0..%d", which, i, labels->data[i], FM_CLASSES - 1);
            return -1;
        }
    return 0;
}

int fm_dataset_load(const char *dir, fm_dataset *d, char *err, size_t err_size)
{
    memset(d, 0, sizeof *d);
    int rc = load_one(dir, "train-images-idx3-ubyte.gz", 3, &d->train_images, err, err_size);
    if (rc == 0) rc = load_one(dir, "train-labels-idx1-ubyte.gz", 1, &d->train_labels, err, err_size);
    if (rc == 0) rc = load_one(dir, "t10k-images-idx3-ubyte.gz", 3, &d->test_images, err, err_size);
    if (rc == 0) rc = load_one(dir, "t10k-labels-idx1-ubyte.gz", 1, &d->test_labels, err, err_size);
    if (rc == 0) rc = check_pair(&d->train_images, &d->train_labels, "training", err, err_size);
    if (rc == 0) rc = check_pair(&d->test_images, &d->test_labels, "test", err, err_size);
    if (rc != 0) {
        fm_dataset_free(d);
        return -1;
    }
    d->n_train = d->train_images.dims[0];
    d->n_test = d->test_images.dims[0];
    return 0;
}

void fm_dataset_free(fm_dataset *d)
{
    fm_idx_free(&d->train_images);
    fm_idx_free(&d->train_labels);
    fm_idx_free(&d->test_images);
    fm_idx_free(&d->test_labels);
    memset(d, 0, sizeof *d);
}
