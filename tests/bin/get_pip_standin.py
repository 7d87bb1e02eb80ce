"""Offline stand-in for get-pip.py, used by ansible-test --venv.

ansible-test downloads get-pip.py to bootstrap pip in the virtual environments
it makes for sanity tests. The build machines cannot reach that download, so
tests/bin/bootstrap.sh puts this file in ansible-test's cache instead: it
bootstraps pip with ensurepip, then installs what get-pip was asked for.
"""

import subprocess
import sys


def main():
    args = [a for a in sys.argv[1:] if a not in ("--no-setuptools", "--no-wheel")]
    subprocess.check_call([sys.executable, "-m", "ensurepip", "--upgrade"])
    if args:
        subprocess.check_call([sys.executable, "-m", "pip", "install"] + args)


if __name__ == "__main__":
    main()
