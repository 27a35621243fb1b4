package org.visualccc;

/**
 * The result of classifying a whole image tile by tile ({@link Model#classifyWhole}):
 * the image's class (argmax of the mean of the tile probabilities), each tile's region,
 * class and probabilities, and optionally the class activation map (CAM) stitched over
 * the whole image. Immutable; array getters return copies.
 *
 * <p>Tiles are listed row-major over a {@code columns × rows} grid. The CAM is a
 * row-major {@code mapWidth × mapHeight} array of values in [0, 1]; one cell covers
 * {@code mapScale × mapScale} image pixels (1 for images up to 2048 pixels on a side).
 */
public final class WholeImageClassification extends ClassProbabilities {
    private final int columns;
    private final int rows;
    private final int[] tileRegions;
    private final int[] tileClasses;
    private final float[] tileProbabilities;
    private final int camClass;
    private final float[] cam;
    private final int mapWidth;
    private final int mapHeight;
    private final int mapScale;

    /**
     * Without an unfamiliar-image signal. The arrays are copied.
     *
     * @param tileRegions       x, y, width, height of each tile
     * @param tileProbabilities the class probabilities of each tile, tile-major
     * @param cam               null when no CAM was requested; then {@code camClass} is -1
     * @throws IllegalArgumentException if the arguments are inconsistent
     */
    public WholeImageClassification(String[] classNames, int predictedIndex, double[] probabilities, int columns,
                                    int rows, int[] tileRegions, int[] tileClasses, float[] tileProbabilities,
                                    int camClass, float[] cam, int mapWidth, int mapHeight, int mapScale) {
        this(classNames, predictedIndex, probabilities, columns, rows, tileRegions, tileClasses, tileProbabilities,
                camClass, cam, mapWidth, mapHeight, mapScale, Double.NaN, -1);
    }

    /**
     * Called from native code with the JNI signature
     * {@code ([Ljava/lang/String;I[DII[I[I[FI[FIIIDI)V}; keep it. The arrays are copied.
     *
     * @param unfamiliarity mean energy score of the tiles, see {@link ClassProbabilities#unfamiliarity()}
     * @param unfamiliar    1, 0, or -1 when the model has no threshold
     * @throws IllegalArgumentException if the arguments are inconsistent
     */
    public WholeImageClassification(String[] classNames, int predictedIndex, double[] probabilities, int columns,
                                    int rows, int[] tileRegions, int[] tileClasses, float[] tileProbabilities,
                                    int camClass, float[] cam, int mapWidth, int mapHeight, int mapScale,
                                    double unfamiliarity, int unfamiliar) {
        super(classNames, predictedIndex, probabilities, unfamiliarity, unfamiliar);
        int tiles = tileClasses == null ? -1 : tileClasses.length;
        if (tiles != columns * rows || tileRegions == null || tileRegions.length != 4 * tiles
                || tileProbabilities == null || tileProbabilities.length != tiles * classCount()) {
            throw new IllegalArgumentException("tile arrays do not match a " + columns + "×" + rows + " grid");
        }
        if (cam != null && ((long) mapWidth * mapHeight != cam.length || mapScale < 1 || camClass < 0
                || camClass >= classCount())) {
            throw new IllegalArgumentException("CAM of " + cam.length + " values is not " + mapWidth + "×"
                    + mapHeight);
        }
        this.columns = columns;
        this.rows = rows;
        this.tileRegions = tileRegions.clone();
        this.tileClasses = tileClasses.clone();
        this.tileProbabilities = tileProbabilities.clone();
        this.camClass = cam == null ? -1 : camClass;
        this.cam = cam == null ? null : cam.clone();
        this.mapWidth = cam == null ? 0 : mapWidth;
        this.mapHeight = cam == null ? 0 : mapHeight;
        this.mapScale = cam == null ? 0 : mapScale;
    }

    public int columns() {
        return columns;
    }

    public int rows() {
        return rows;
    }

    public int tileCount() {
        return tileClasses.length;
    }

    /** x, y, width, height of tile {@code i} in image pixels. */
    public int[] tileRegion(int i) {
        return new int[] {tileRegions[4 * i], tileRegions[4 * i + 1], tileRegions[4 * i + 2],
            tileRegions[4 * i + 3]};
    }

    public int tileClass(int i) {
        return tileClasses[i];
    }

    /** Class probabilities of tile {@code i}. */
    public double[] tileProbabilities(int i) {
        double[] p = new double[classCount()];
        for (int k = 0; k < p.length; k++) {
            p[k] = tileProbabilities[i * p.length + k];
        }
        return p;
    }

    public boolean hasCam() {
        return cam != null;
    }

    /** Class the CAM explains, or -1. */
    public int camClass() {
        return camClass;
    }

    /** The stitched CAM, or null. */
    public float[] cam() {
        return cam == null ? null : cam.clone();
    }

    public int mapWidth() {
        return mapWidth;
    }

    public int mapHeight() {
        return mapHeight;
    }

    /** Image pixels per CAM cell along each axis (0 without a CAM). */
    public int mapScale() {
        return mapScale;
    }

    @Override
    public String toString() {
        return predictedClass() + " (" + tileCount() + " tiles, " + columns + "×" + rows + ")";
    }
}
