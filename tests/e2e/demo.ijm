// The main job of scripts/demo.sh: classify the generated sample with Visual-CCC in
// real ImageJ and save the results table, the class activation map and the overlay.
// Argument: the output folder holding sample.png.
dir = getArgument();
if (dir == "") exit("usage: -batch demo.ijm OUTPUT_DIR");
if (!endsWith(dir, "/")) dir = dir + "/";
setBatchMode(true);
open(dir + "sample.png");
sample = getImageID();
run("Classify Morphology...", "model=morphology heatmap_opacity=40 show_heatmap_image add_overlay");
Table.save(dir + "classification.csv", "Visual-CCC Classification");
selectImage(nImages);
saveAs("Tiff", dir + "sample-CAM.tif");
selectImage(sample);
run("Flatten");
saveAs("PNG", dir + "sample-overlay.png");
print("Visual-CCC demo: " + Table.getString("Class", 0, "Visual-CCC Classification") + " (P = " + d2s(Table.get("P(" + Table.getString("Class", 0, "Visual-CCC Classification") + ")", 0, "Visual-CCC Classification"), 3) + ")");
