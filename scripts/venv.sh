# Sourced by the other scripts: creates .venv with the project and its extras when missing or stale.
VENV="${CAREERSITE_VENV:-.venv}"
EXTRAS="${CAREERSITE_EXTRAS:-search}"
if [ ! -x "$VENV/bin/python" ]; then
  python3 -m venv "$VENV"
fi
stamp="$VENV/.careersite-installed"
want="$(cat pyproject.toml | sha256sum | cut -c1-16) $EXTRAS"
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
  "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check -e ".[$EXTRAS]"
  echo "$want" > "$stamp"
fi
