/*
 * Classifies an 8-bit grey binary PGM (P5) image with the Visual-CCC C API, prints its
 * class probabilities and a 2-cluster segmentation summary, as a C host would.
 *
 *   cc -I rust/capi/include rust/capi/examples/c/classify.c -L target/release \
 *      -lvisual_ccc_c -Wl,-rpath,target/release -o classify
 *   ./classify IMAGE.pgm [MODEL]        (MODEL: bundled name or .onnx path; default morphology)
 *
 * Exit status: 0 success, 1 bad input, 2 Visual-CCC error (message on stderr).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "visual_ccc.h"

/* Reads a binary 8-bit PGM; returns malloc'ed pixels or NULL. */
static uint8_t *read_pgm(const char *path, size_t *width, size_t *height) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    unsigned w = 0, h = 0, maxval = 0;
    uint8_t *pixels = NULL;
    if (fscanf(f, "P5 %u %u %u", &w, &h, &maxval) == 3 && maxval == 255 && w > 0 && h > 0 &&
        fgetc(f) != EOF) {
        pixels = malloc((size_t)w * h);
        if (pixels && fread(pixels, 1, (size_t)w * h, f) != (size_t)w * h) {
            free(pixels);
            pixels = NULL;
        }
    }
    fclose(f);
    *width = w;
    *height = h;
    return pixels;
}

static int fail(const char *what) {
    const char *message = vccc_last_error();
    fprintf(stderr, "%s: %s\n", what, message ? message : "(no message)");
    return 2;
}

int main(int argc, char **argv) {
    if (argc < 2 || argc > 3) {
        fprintf(stderr, "usage: %s IMAGE.pgm [MODEL]\n", argv[0]);
        return 1;
    }
    size_t width, height;
    uint8_t *pixels = read_pgm(argv[1], &width, &height);
    if (!pixels) {
        fprintf(stderr, "%s: not a readable 8-bit binary PGM\n", argv[1]);
        return 1;
    }
    VcccModel *model = vccc_model_open(argc == 3 ? argv[2] : "morphology");
    if (!model) {
        free(pixels);
        return fail("vccc_model_open");
    }
    size_t classes = vccc_model_class_count(model);
    float *probabilities = calloc(classes, sizeof(float));
    uint8_t *labels = malloc(width * height);
    int status = 0;
    if (vccc_classify_u8(model, pixels, width, height, probabilities) != 0) {
        status = fail("vccc_classify_u8");
    } else {
        size_t best = 0;
        for (size_t c = 1; c < classes; c++)
            if (probabilities[c] > probabilities[best]) best = c;
        printf("{\"class\": \"%s\", \"probabilities\": {", vccc_model_class_name(model, best));
        for (size_t c = 0; c < classes; c++)
            printf("%s\"%s\": %.9g", c ? ", " : "", vccc_model_class_name(model, c),
                   (double)probabilities[c]);
        printf("}");
        if (vccc_cluster_u8(pixels, width, height, 2, 0, labels) != 0) {
            printf("}\n");
            status = fail("vccc_cluster_u8");
        } else {
            size_t ones = 0;
            for (size_t i = 0; i < width * height; i++) ones += labels[i];
            printf(", \"cluster_1_fraction\": %.6f}\n", (double)ones / (double)(width * height));
        }
    }
    free(labels);
    free(probabilities);
    vccc_model_free(model);
    free(pixels);
    return status;
}
