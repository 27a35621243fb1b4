/* Error paths of the Visual-CCC C API: every failure is a status code and a message from
 * vccc_last_error(), never a crash. Prints one line per check; exits 0 when all hold. */
#include <stdio.h>
#include <string.h>

#include "visual_ccc.h"

static int failures = 0;

static void expect(int ok, const char *what) {
    const char *message = vccc_last_error();
    printf("%s %s: %s\n", ok ? "ok  " : "FAIL", what, message ? message : "(no message)");
    if (!ok) failures++;
}

int main(void) {
    uint8_t pixels[64 * 64];
    memset(pixels, 100, sizeof pixels);
    float probabilities[16];
    uint8_t labels[64 * 64];

    expect(vccc_last_error() == NULL, "no error before any call");
    VcccModel *missing = vccc_model_open("/nonexistent/model.onnx");
    expect(missing == NULL && vccc_last_error() != NULL &&
               strstr(vccc_last_error(), "/nonexistent/model.onnx") != NULL,
           "missing model gives NULL and names the path");
    expect(vccc_model_open(NULL) == NULL && strstr(vccc_last_error(), "NULL") != NULL,
           "NULL model name");

    VcccModel *model = vccc_model_open("morphology");
    expect(model != NULL, "bundled model opens");
    if (model) {
        expect(vccc_classify_u8(model, NULL, 64, 64, probabilities) == VCCC_STATUS_INVALID_ARGUMENT &&
                   strstr(vccc_last_error(), "pixels is NULL") != NULL,
               "NULL pixels");
        expect(vccc_classify_u8(model, pixels, 0, 64, probabilities) == VCCC_STATUS_INVALID_ARGUMENT,
               "zero width");
        expect(vccc_classify_u8(model, pixels, 64, 64, NULL) == VCCC_STATUS_INVALID_ARGUMENT,
               "NULL probabilities");
        expect(vccc_classify_u8(NULL, pixels, 64, 64, probabilities) == VCCC_STATUS_INVALID_ARGUMENT,
               "NULL model");
        expect(vccc_model_class_name(model, 99) == NULL, "class index out of range gives NULL");
        static float map[64 * 64];
        int cam = vccc_cam_u8(model, pixels, 64, 64, -1, map);
        int in_range = 1;
        for (size_t i = 0; i < 64 * 64; i++) in_range &= map[i] >= 0.0f && map[i] <= 1.0f;
        expect(cam == VCCC_STATUS_OK && in_range, "CAM of the predicted class lies in [0, 1]");
        expect(vccc_cam_u8(model, pixels, 64, 64, 7, map) == VCCC_STATUS_INVALID_ARGUMENT,
               "CAM of a class the model lacks");
    }
    expect(vccc_cluster_u8(pixels, 64, 64, 0, 1, labels) == VCCC_STATUS_INVALID_ARGUMENT,
           "k = 0 is refused");
    expect(vccc_cluster_u8(NULL, 64, 64, 2, 1, labels) == VCCC_STATUS_INVALID_ARGUMENT,
           "NULL pixels for clustering");
    vccc_model_free(model);
    vccc_model_free(NULL);
    printf("%d failed\n", failures);
    return failures ? 1 : 0;
}
