"""Archive search: one core for `/papers search`, the CLI and channel topics.

    index = SearchIndex.from_archive(archive)        # or SearchIndex.build(records); index.attach(archive)
    page = index.search('chinchila scaling -vision since:2022', limit=10)
    hits = index.match('sparse autoencoders', paper_ids=todays_ids)

Modules: text.py (folding, tokens, stems), bulk.py (vectorised tokenising for builds), postings.py
(vocabulary, segmented postings), fuzzy.py (typo corrections), query.py (the query language), index.py
(ranking, filters, paging), models.py (the value types below).
"""

from bot.search.index import SearchIndex
from bot.search.models import Hit, QueryError, SearchContext, SearchPage
from bot.search.query import MAX_QUERY_CHARS

__all__ = ["MAX_QUERY_CHARS", "Hit", "QueryError", "SearchContext", "SearchIndex", "SearchPage"]
