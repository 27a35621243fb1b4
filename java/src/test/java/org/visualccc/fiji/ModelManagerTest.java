package org.visualccc.fiji;

import ij.measure.ResultsTable;
import org.junit.Rule;
import org.junit.Test;
import org.junit.rules.TemporaryFolder;
import org.visualccc.BundledModels;
import org.visualccc.Model;
import org.visualccc.TestSupport;

import java.io.File;
import java.io.FileOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.util.zip.ZipEntry;
import java.util.zip.ZipOutputStream;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertTrue;
import static org.visualccc.AnalysisTestSupport.assertRejected;

/** Model Manager's and About's scripting entry points, headless. */
public class ModelManagerTest {
    @Rule
    public TemporaryFolder temp = new TemporaryFolder();

    @Test
    public void installsAModelWithItsCardAndListsIt() throws IOException {
        File source = temp.newFolder("source");
        File onnx = new File(source, "my-model.onnx");
        Files.copy(new File(TestSupport.fixtureTiny()).toPath(), onnx.toPath());
        Files.write(new File(source, "my-model.md").toPath(), "# My model\nTrained on nothing.\n"
                .getBytes(StandardCharsets.UTF_8));
        File models = temp.newFolder("models");
        File installed = ModelManager.install(onnx, models);
        assertEquals(new File(models, "my-model.onnx"), installed);
        assertTrue(new File(models, "my-model.md").isFile());
        assertTrue(ModelManager.modelCard(installed.getPath()).startsWith("# My model"));
        // Installing the same file again is fine; a different file of that name is not.
        ModelManager.install(onnx, models);
        Files.write(onnx.toPath(), Files.readAllBytes(new File(TestSupport.fixtureNoFeatures()).toPath()));
        assertRejected("already installed", () -> ModelManager.install(onnx, models));

        String old = System.getProperty(ClassifyMorphology.MODELS_DIR_PROPERTY);
        System.setProperty(ClassifyMorphology.MODELS_DIR_PROPERTY, models.getPath());
        try {
            ResultsTable table = ModelManager.listModels(new ResultsTable());
            int mine = -1;
            int fixture = -1;
            for (int i = 0; i < table.size(); i++) {
                if (table.getStringValue("Model", i).equals("my-model.onnx")) {
                    mine = i;
                } else if (table.getStringValue("Model", i).equals(BundledModels.FIXTURE_TINY_LABEL)) {
                    fixture = i;
                }
            }
            assertTrue(mine >= 0 && fixture >= 0);
            assertEquals("yes", table.getStringValue("Card", mine));
            assertEquals("fixture", table.getStringValue("Kind", fixture));
            assertTrue(table.getValue("Input size", fixture) > 0);
            assertTrue(table.getStringValue("Classes", fixture).length() > 0);
        } finally {
            TestSupport.restoreProperty(ClassifyMorphology.MODELS_DIR_PROPERTY, old);
        }
    }

    @Test
    public void refusesFilesThatAreNotModels() throws IOException {
        File bad = temp.newFile("broken.onnx");
        Files.write(bad.toPath(), "not a model".getBytes(StandardCharsets.UTF_8));
        File models = temp.newFolder("models");
        assertRejected("not a usable Visual-CCC model", () -> ModelManager.install(bad, models));
        assertEquals(0, models.list().length);
        File text = temp.newFile("x.txt");
        assertRejected("is not an .onnx file", () -> ModelManager.install(text, models));
    }

    @Test
    public void installsABioImageModelZooZipThroughTheImporter() throws IOException {
        File pkg = new File(TestSupport.fixturesDir().getParentFile(), "bioimageio/tiny-classifier");
        File zip = temp.newFile("tiny-classifier.zip");
        try (ZipOutputStream out = new ZipOutputStream(new FileOutputStream(zip))) {
            for (File f : pkg.listFiles()) {
                out.putNextEntry(new ZipEntry(f.getName()));
                out.write(Files.readAllBytes(f.toPath()));
                out.closeEntry();
            }
        }
        File models = temp.newFolder("models");
        File installed = ModelManager.install(zip, models);
        assertEquals(new File(models, "tiny-classifier.onnx"), installed);
        try (Model model = Model.open(installed.getPath())) {
            assertEquals(3, model.classNames().length);
        }
    }

    @Test
    public void cardFallsBackToTheModelsOwnDescription() {
        String card = ModelManager.modelCard(BundledModels.FIXTURE_TINY);
        assertTrue(card, card.contains("No model card") && card.contains("Kind: fixture"));
    }

    @Test
    public void aboutNamesVersionNativeLibraryAndOnnxRuntime() {
        String about = AboutVisualCcc.aboutText();
        assertTrue(about, about.contains("Version: 0."));
        assertTrue(about, about.contains("Native library file: /"));
        assertTrue(about, about.contains("ONNX Runtime: version 1.22.1 required; library /"));
        assertTrue(about, about.contains("MIT"));
    }
}
