from movierec.cli import run

run()
