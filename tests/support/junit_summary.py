"""Prints one closing line for the JUnit XML reports gradle wrote: `junit: N passed, N failed`.

Exits non-zero when a test failed or none ran, so a test task that silently ran nothing
cannot pass.
"""
import glob
import sys
import xml.etree.ElementTree as ElementTree

totals = {"tests": 0, "failures": 0, "errors": 0, "skipped": 0}
for report in glob.glob(f"{sys.argv[1]}/*/TEST-*.xml"):
    suite = ElementTree.parse(report).getroot()
    for key in totals:
        totals[key] += int(suite.get(key, 0))
failed = totals["failures"] + totals["errors"]
passed = totals["tests"] - failed - totals["skipped"]
print(f"junit: {passed} passed, {failed} failed, {totals['skipped']} skipped")
sys.exit(1 if failed or totals["tests"] == 0 else 0)
