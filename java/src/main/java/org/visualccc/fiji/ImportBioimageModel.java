package org.visualccc.fiji;

import ij.IJ;
import ij.plugin.PlugIn;
import org.visualccc.Model;

import java.io.File;

/**
 * Plugins › Visual-CCC › Import BioImage Model...: imports a BioImage Model Zoo image
 * classifier (model RDF 0.5 with ONNX weights; its {@code .zip} or {@code rdf.yaml}) into
 * the models folder, where Classify Morphology... and Morphology Map... offer it. The
 * package's own test input must reproduce its test output. Packages that are not
 * supported image classifiers are refused with the reason.
 *
 * <p>Macro (recordable):
 * <pre>
 * run("Import BioImage Model...", "package=/path/to/model.zip models_folder=/path/to/Fiji.app/models/visual-ccc");
 * </pre>
 *
 * <p>Scripting: {@link #importPackage(String, String)}.
 */
public class ImportBioimageModel implements PlugIn {
    /** Prefix of this command's remembered dialog values. */
    static final String PREFS_PREFIX = "visualccc.import.";

    @Override
    public void run(String arg) {
        File models = ClassifyMorphology.imageJModelsDir();
        CommandDialog gd = new CommandDialog("Visual-CCC: Import BioImage Model", PREFS_PREFIX)
                .file("Package", "")
                .directory("Models_folder", models == null ? "" : models.getPath())
                .message("A BioImage Model Zoo image classifier: its .zip or rdf.yaml (RDF 0.5, ONNX weights).");
        if (!gd.show()) {
            return;
        }
        String pkg = gd.nextString().trim();
        String folder = gd.nextString().trim();
        CommandSupport.guarded(() -> importPackage(pkg, folder));
    }

    /**
     * Imports the package at {@code packagePath} into {@code modelsFolder} and logs what
     * was written.
     *
     * @return the imported model file
     * @throws IllegalArgumentException if a path is missing
     */
    public static File importPackage(String packagePath, String modelsFolder) {
        if (packagePath == null || packagePath.isEmpty() || modelsFolder == null || modelsFolder.isEmpty()) {
            throw new IllegalArgumentException("choose a package and a models folder");
        }
        File model = new File(Model.importBioimageio(packagePath, modelsFolder));
        IJ.log("Visual-CCC: imported " + new File(packagePath).getName() + " as " + model.getPath()
                + ". It classifies (Classify Morphology..., Morphology Map...) but has no 'features' output, "
                + "so no class activation map can be drawn for it.");
        return model;
    }
}
