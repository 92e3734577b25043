"""rejected-flows: run the stack program (infra/program.py) and export its outputs."""

import pulumi

from infra.program import run

for output_name, value in run(pulumi.Config()).items():
    pulumi.export(output_name, value)
