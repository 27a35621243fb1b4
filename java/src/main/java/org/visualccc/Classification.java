package org.visualccc;

import java.util.Locale;

/**
 * The result of classifying one image: class probabilities and, optionally, the class
 * activation map (CAM) of one class. Immutable; array getters return copies.
 *
 * <p>The CAM is a row-major {@code camWidth × camHeight} array of values in [0, 1]
 * covering the analysed region ({@code regionX, regionY, regionWidth, regionHeight}) of
 * the input image, in input-pixel coordinates. In centre-crop mode that region is the
 * centred square that was classified.
 */
public final class Classification extends ClassProbabilities {
    private final int camClass;
    private final float[] cam;
    private final int camWidth;
    private final int camHeight;
    private final int regionX;
    private final int regionY;
    private final int regionWidth;
    private final int regionHeight;

    /**
     * Without an unfamiliar-image signal. The arrays are copied.
     *
     * @param cam null when no CAM was requested; then {@code camClass} is -1 and
     *            {@code camWidth}, {@code camHeight} are 0
     * @throws IllegalArgumentException if the arguments are inconsistent
     */
    public Classification(String[] classNames, int predictedIndex, double[] probabilities, int camClass,
                          float[] cam, int camWidth, int camHeight, int regionX, int regionY,
                          int regionWidth, int regionHeight) {
        this(classNames, predictedIndex, probabilities, camClass, cam, camWidth, camHeight, regionX, regionY,
                regionWidth, regionHeight, Double.NaN, -1);
    }

    /**
     * Called from native code with the JNI signature
     * {@code ([Ljava/lang/String;I[DI[FIIIIIIDI)V}; keep it. The arrays are copied.
     *
     * @param cam           null when no CAM was requested; then {@code camClass} is -1 and
     *                      {@code camWidth}, {@code camHeight} are 0
     * @param unfamiliarity see {@link ClassProbabilities#unfamiliarity()}
     * @param unfamiliar    1, 0, or -1 when the model has no threshold
     * @throws IllegalArgumentException if the arguments are inconsistent
     */
    public Classification(String[] classNames, int predictedIndex, double[] probabilities, int camClass,
                          float[] cam, int camWidth, int camHeight, int regionX, int regionY,
                          int regionWidth, int regionHeight, double unfamiliarity, int unfamiliar) {
        super(classNames, predictedIndex, probabilities, unfamiliarity, unfamiliar);
        if (cam != null) {
            if (camWidth <= 0 || camHeight <= 0 || (long) camWidth * camHeight != cam.length) {
                throw new IllegalArgumentException("CAM of " + cam.length + " values is not " + camWidth + "×"
                        + camHeight);
            }
            if (camClass < 0 || camClass >= classCount()) {
                throw new IllegalArgumentException("CAM class " + camClass + " out of range");
            }
        }
        this.camClass = cam == null ? -1 : camClass;
        this.cam = cam == null ? null : cam.clone();
        this.camWidth = cam == null ? 0 : camWidth;
        this.camHeight = cam == null ? 0 : camHeight;
        this.regionX = regionX;
        this.regionY = regionY;
        this.regionWidth = regionWidth;
        this.regionHeight = regionHeight;
    }

    public boolean hasCam() {
        return cam != null;
    }

    /** Index of the class whose CAM this is, or -1 without a CAM. */
    public int camClass() {
        return camClass;
    }

    /** Row-major CAM values in [0, 1] (a copy), or null without a CAM. */
    public float[] cam() {
        return cam == null ? null : cam.clone();
    }

    /** CAM value at ({@code x}, {@code y}) in CAM pixels. */
    public float camValue(int x, int y) {
        if (cam == null) {
            throw new IllegalStateException("no CAM was computed");
        }
        if (x < 0 || y < 0 || x >= camWidth || y >= camHeight) {
            throw new IndexOutOfBoundsException("(" + x + ", " + y + ") outside " + camWidth + "×" + camHeight);
        }
        return cam[y * camWidth + x];
    }

    public int camWidth() {
        return camWidth;
    }

    public int camHeight() {
        return camHeight;
    }

    public int regionX() {
        return regionX;
    }

    public int regionY() {
        return regionY;
    }

    public int regionWidth() {
        return regionWidth;
    }

    public int regionHeight() {
        return regionHeight;
    }

    @Override
    public String toString() {
        StringBuilder sb = new StringBuilder("Classification[");
        sb.append(predictedClass());
        String[] names = classNames();
        for (int i = 0; i < names.length; i++) {
            sb.append(i == 0 ? "; " : ", ").append(names[i]).append('=')
                    .append(String.format(Locale.ROOT, "%.4f", probability(i)));
        }
        sb.append("; region ").append(regionX).append(',').append(regionY).append(' ')
                .append(regionWidth).append('×').append(regionHeight);
        if (cam != null) {
            sb.append("; CAM of ").append(names[camClass]).append(' ').append(camWidth).append('×')
                    .append(camHeight);
        } else {
            sb.append("; no CAM");
        }
        return sb.append(']').toString();
    }
}
