package org.visualccc.fiji;

import ij.IJ;
import ij.plugin.PlugIn;
import ij.text.TextWindow;
import org.visualccc.BuildInfo;
import org.visualccc.NativeLibrary;
import org.visualccc.NativeLoader;
import org.visualccc.RuntimeInfo;

import java.awt.GraphicsEnvironment;
import java.io.File;

/**
 * Plugins › Visual-CCC › About Visual-CCC: version, build id, where the native library and
 * ONNX Runtime were loaded from, the models folder, licences and what to cite. Shown in a
 * text window ("About Visual-CCC"); in headless runs and macros in batch mode, printed to
 * the log. Scripting: {@link #aboutText()}.
 */
public class AboutVisualCcc implements PlugIn {
    /** Title of the window. */
    public static final String TITLE = "About Visual-CCC";
    /** Characters per line that the About window shows without cutting them off. */
    static final int WINDOW_COLUMNS = 110;
    private static final String CONTINUATION = "    ";

    @Override
    public void run(String arg) {
        String text = aboutText();
        if (GraphicsEnvironment.isHeadless() || IJ.getInstance() == null) {
            IJ.log(text);
        } else {
            // The window does not wrap; long paths are broken so that nothing is cut off.
            new TextWindow(TITLE, wrapLongLines(text, WINDOW_COLUMNS), 900, 560);
        }
    }

    /**
     * {@code text} with every line longer than {@code columns} characters broken (after a
     * '/' or a space where there is one) into lines of at most that many, continued with a
     * four-space indent.
     */
    static String wrapLongLines(String text, int columns) {
        StringBuilder out = new StringBuilder();
        for (String line : text.split("\n", -1)) {
            String rest = line;
            String indent = "";
            while (indent.length() + rest.length() > columns) {
                int room = columns - indent.length();
                int cut = Math.max(rest.lastIndexOf('/', room - 1), rest.lastIndexOf(' ', room - 1)) + 1;
                if (cut < room / 2) {
                    cut = room;
                }
                out.append(indent).append(rest, 0, cut).append('\n');
                rest = rest.substring(cut);
                indent = CONTINUATION;
            }
            out.append(indent).append(rest).append('\n');
        }
        return out.substring(0, out.length() - 1);
    }

    /** The About text; never throws (a native library that cannot be loaded is described). */
    public static String aboutText() {
        StringBuilder t = new StringBuilder();
        t.append("Visual-CCC for Fiji: Visualization through Classification, Class Activation Mapping and "
                + "Clustering\n\n");
        t.append("Version: ").append(BuildInfo.version()).append('\n');
        t.append("Build id: ").append(BuildInfo.buildId()).append('\n');
        t.append("Java: ").append(System.getProperty("java.version")).append(", ImageJ ").append(IJ.getVersion())
                .append('\n');
        try {
            t.append("Native library: visual-ccc ").append(NativeLibrary.version()).append(", ")
                    .append(NativeLoader.loadedFrom()).append('\n');
            File library = NativeLoader.loadedLibraryFile();
            t.append("Native library file: ").append(library == null ? "(unknown)" : library.getPath()).append('\n');
            File ort = RuntimeInfo.onnxRuntimeLibrary();
            t.append("ONNX Runtime: version ").append(RuntimeInfo.requiredOnnxRuntimeVersion())
                    .append(" required; library ").append(ort == null ? "NOT FOUND" : ort.getPath()).append('\n');
        } catch (UnsatisfiedLinkError e) {
            t.append("Native library: NOT LOADED: ").append(e.getMessage()).append('\n');
        }
        File models = ClassifyMorphology.imageJModelsDir();
        t.append("Models folder: ").append(models == null ? "(outside ImageJ)" : models.getPath()).append('\n');
        t.append("\nLicences\n");
        t.append("  Visual-CCC: MIT licence.\n");
        t.append("  ONNX Runtime (bundled): MIT licence, (c) Microsoft Corporation.\n");
        t.append("  ImageJ: public domain (ImageJ 1.x), used as provided by Fiji.\n");
        t.append("\nPlease cite\n");
        t.append("  Visual-CCC (the published Visual-CCC desktop tool this plugin re-implements) and this plugin,\n"
                + "  version and build id above.\n");
        t.append("  Class activation maps: B. Zhou et al., Learning Deep Features for Discriminative Localization,\n"
                + "  CVPR 2016.\n");
        t.append("  Texture: R. M. Haralick et al., Textural Features for Image Classification, IEEE Trans. SMC 3,\n"
                + "  610-621 (1973); Otsu: N. Otsu, IEEE Trans. SMC 9, 62-66 (1979).\n");
        t.append("  Trained models name their training data in their model card; cite those data sets too\n"
                + "  (e.g. UHCS: DeCost et al., IMMI 6, 197-205 (2017)).\n");
        return t.toString();
    }
}
