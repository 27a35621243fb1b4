package org.visualccc;

import ij.process.FloatProcessor;

/**
 * Texture of one slice from {@link Texture#analyse}: result names, and the sliding-window
 * maps and/or whole-image values in the same order. Immutable; getters return copies.
 */
public final class TextureResult {
    private final String[] names;
    private final float[][] maps;
    private final double[] values;
    private final int width;
    private final int height;

    /**
     * Called from native code with the JNI signature {@code ([Ljava/lang/String;[[F[DII)V};
     * keep it. The arrays are taken over, not copied.
     *
     * @param maps   null when not computed, else one {@code width × height} map per name
     * @param values null when not computed, else one value per name
     * @throws IllegalArgumentException if the arguments are inconsistent
     */
    public TextureResult(String[] names, float[][] maps, double[] values, int width, int height) {
        if (names == null || names.length == 0) {
            throw new IllegalArgumentException("no result names");
        }
        if (maps != null) {
            if (maps.length != names.length) {
                throw new IllegalArgumentException(maps.length + " maps for " + names.length + " names");
            }
            for (float[] map : maps) {
                if (map == null || (long) width * height != map.length) {
                    throw new IllegalArgumentException("a map is not " + width + "x" + height);
                }
            }
        }
        if (values != null && values.length != names.length) {
            throw new IllegalArgumentException(values.length + " values for " + names.length + " names");
        }
        this.names = names;
        this.maps = maps;
        this.values = values;
        this.width = width;
        this.height = height;
    }

    /** Result names, e.g. {@code contrast} or {@code contrast d=1 45deg} (a copy). */
    public String[] names() {
        return names.clone();
    }

    public int size() {
        return names.length;
    }

    public boolean hasMaps() {
        return maps != null;
    }

    public boolean hasValues() {
        return values != null;
    }

    /** Map {@code index} as a new 32-bit image. */
    public FloatProcessor map(int index) {
        if (maps == null) {
            throw new IllegalStateException("no maps were computed");
        }
        return new FloatProcessor(width, height, maps[index].clone());
    }

    /** Whole-image values in {@link #names()} order (a copy). */
    public double[] values() {
        if (values == null) {
            throw new IllegalStateException("no whole-image values were computed");
        }
        return values.clone();
    }

    /** The whole-image value called {@code name}. */
    public double value(String name) {
        double[] v = values();
        for (int i = 0; i < names.length; i++) {
            if (names[i].equals(name)) {
                return v[i];
            }
        }
        throw new IllegalArgumentException("no texture result '" + name + "'");
    }

    public int width() {
        return width;
    }

    public int height() {
        return height;
    }
}
