"""Evidence for the recommendations paper, as plain data objects a page, a CSV, a figure or a
report reuse: what the centres say blocks access (:mod:`.barriers`), every domain's figures for
one country (:mod:`.profiles`) and who lives beyond reach of a centre (:mod:`.left_out`).

Each module holds one read use case (it checks the actor's permission and changes nothing);
the reads are in :mod:`.queries`, the figures in :mod:`.figures`. The indicator figures come
from :func:`mapping.service.indicator_map`, never recomputed here.
"""
