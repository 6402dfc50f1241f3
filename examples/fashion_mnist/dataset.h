/* dataset.h: Fashion-MNIST's four files, checked against each other.
 *
 *   fm_dataset d;
 *   char err[512];
 *   if (fm_dataset_load(FM_DEFAULT_DATA_DIR, &d, err, sizeof err) != 0) die(err);
 *   ...d.train_images.data + i * FM_PIXELS...
 *   fm_dataset_free(&d);
 */
#ifndef FM_DATASET_H
#define FM_DATASET_H
#include "idx.h"

#define FM_DEFAULT_DATA_DIR "/usr/share/datasets/fashion-mnist"
#define FM_DEBIAN_PACKAGE "dataset-fashion-mnist"
enum { FM_SIDE = 28, FM_PIXELS = FM_SIDE * FM_SIDE, FM_CLASSES = 10 };

extern const char *const fm_class_names[FM_CLASSES];

typedef struct fm_dataset {
    fm_idx train_images, train_labels, test_images, test_labels;
    size_t n_train, n_test;
} fm_dataset;

/* Loads the training and test sets from dir; 0 on success, else -1 with a message (naming the
 * Debian package when the files are missing). */
int fm_dataset_load(const char *dir, fm_dataset *d, char *err, size_t err_size);
void fm_dataset_free(fm_dataset *d);

#endif
