package org.visualccc.fiji;

import java.util.Map;

/**
 * The model fields that commands running a classifier share: a {@code Model} choice of the
 * {@link ClassifyMorphology#availableModels() available models} and a {@code Model_file}
 * that wins when non-empty.
 */
final class ModelField {
    private final Map<String, String> models = ClassifyMorphology.availableModels();
    private final String[] labels = models.keySet().toArray(new String[0]);

    /** Adds the fields to {@code dialog}. */
    ModelField addTo(CommandDialog dialog) {
        if (labels.length > 0) {
            dialog.choice("Model", labels, labels[0]);
        }
        dialog.string("Model_file", "", 30)
                .message("A model file, if given, is used instead of the choice above.");
        return this;
    }

    /**
     * Reads the fields (in the order added) and returns the model to use, for
     * {@link ClassifyMorphology#resolveModel}.
     *
     * @throws IllegalArgumentException if there is none
     */
    String read(CommandDialog dialog) {
        String choice = labels.length > 0 ? models.get(dialog.nextChoice()) : null;
        String file = dialog.nextString();
        String model = !file.isEmpty() ? file : choice;
        if (model == null) {
            throw new IllegalArgumentException("no model chosen: enter a model file");
        }
        return model;
    }
}
