package org.visualccc;

import java.io.File;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;

/**
 * Models shipped inside the plugin jar (the trained {@code models/*.onnx} of the repository
 * and the untrained test fixture), extracted on first use into {@code ~/.cache/visual-ccc/models/<version>-<build id>/}.
 */
public final class BundledModels {
    /** Name of the bundled fixture model (resource {@code /models/fixture-tiny.onnx}). */
    public static final String FIXTURE_TINY = "fixture-tiny";
    /** Menu label of the bundled fixture model. */
    public static final String FIXTURE_TINY_LABEL = "fixture-tiny (untrained test fixture)";

    /** The trained models shipped in the jar, default first (see docs/models/). */
    public static final List<String> TRAINED = java.util.Collections.unmodifiableList(
            java.util.Arrays.asList("morphology", "uhcs"));

    private static final String FOLDER = "/models/";

    private BundledModels() {
    }

    /** Whether the jar (class path) holds the model {@code name} ({@code name.onnx}). */
    public static boolean isBundled(String name) {
        return BundledModels.class.getResource(FOLDER + name + ".onnx") != null;
    }

    /**
     * The bundled model {@code name} as a file, extracting it if needed.
     *
     * @throws VisualCccException of kind IO (or MODEL if not bundled)
     */
    public static synchronized File extract(String name) {
        String fileName = name + ".onnx";
        if (!isBundled(name)) {
            throw new VisualCccException(VisualCccException.Kind.MODEL,
                    "model " + fileName + " is not bundled with this build (resource " + FOLDER + fileName + ")");
        }
        List<String> failures = new ArrayList<String>();
        for (File root : ResourceExtractor.cacheRoots()) {
            File dir = new File(new File(root, "models"), BuildInfo.cacheTag());
            long size = resourceSize(FOLDER + fileName);
            try {
                return ResourceExtractor.extract(FOLDER, new ResourceExtractor.Entry(fileName, size, null), dir);
            } catch (IOException e) {
                failures.add(dir + ": " + e.getMessage());
            }
        }
        throw new VisualCccException(VisualCccException.Kind.IO,
                "cannot extract the bundled model " + fileName + ": " + String.join("; ", failures));
    }

    private static long resourceSize(String resource) {
        try {
            java.net.URLConnection connection = BundledModels.class.getResource(resource).openConnection();
            connection.setUseCaches(false);
            long size = connection.getContentLengthLong();
            try {
                connection.getInputStream().close();
            } catch (IOException e) {
                // size is what matters
            }
            return size;
        } catch (IOException e) {
            return -1;
        }
    }
}
