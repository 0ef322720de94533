"""The national library's acceptance workflow for submitting units (承建单位): the approved
digitisation catalogue, sample review, monthly catalogues, random spot checks (GB/T 2828.1),
batch acceptance, rights/credit and per-unit statistics. Domain only: no HTTP here."""
