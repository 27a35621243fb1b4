package org.visualccc.fiji;

import org.junit.Rule;
import org.junit.Test;
import org.junit.rules.TemporaryFolder;
import org.visualccc.Model;
import org.visualccc.TestSupport;
import org.visualccc.VisualCccException;

import java.io.File;
import java.io.IOException;
import java.nio.file.Files;

import static org.junit.Assert.assertArrayEquals;
import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertTrue;
import static org.junit.Assert.fail;

/** Importing the tiny BioImage Model Zoo fixture package through the Java API. */
public class ImportBioimageModelTest {
    @Rule
    public TemporaryFolder temp = new TemporaryFolder();

    private static File fixturePackage() {
        return new File(TestSupport.fixturesDir().getParentFile(), "bioimageio/tiny-classifier");
    }

    @Test
    public void packageIsImportedIntoTheModelsFolderAndClassifies() throws IOException {
        File models = temp.newFolder("models");
        File model = ImportBioimageModel.importPackage(new File(fixturePackage(), "rdf.yaml").getPath(),
                models.getPath());
        assertEquals(new File(models, "tiny-classifier.onnx"), model);
        try (Model m = Model.open(model.getPath())) {
            assertArrayEquals(new String[] {"ferrite", "pearlite", "martensite"}, m.classNames());
            assertFalse(m.hasFeatures());
            assertEquals(48, m.inputSize());
            double sum = 0;
            for (double p : m.classify(TestSupport.gray8(100, 80, 2), Model.CAM_NONE).probabilities()) {
                sum += p;
            }
            assertEquals(1.0, sum, 1e-5);
        }
    }

    @Test
    public void aPackageThatIsNotAClassifierIsRefusedWithTheReason() throws IOException {
        File pkg = temp.newFolder("pkg");
        for (File f : fixturePackage().listFiles()) {
            Files.copy(f.toPath(), new File(pkg, f.getName()).toPath());
        }
        File rdf = new File(pkg, "rdf.yaml");
        String text = new String(Files.readAllBytes(rdf.toPath()), "UTF-8");
        Files.write(rdf.toPath(), text.replace("channel_names: [grey]", "channel_names: [r, g, b]").getBytes("UTF-8"));
        try {
            ImportBioimageModel.importPackage(rdf.getPath(), temp.newFolder("out").getPath());
            fail();
        } catch (VisualCccException e) {
            assertTrue(e.getMessage(), e.getMessage().contains("3 channels"));
        }
    }
}
