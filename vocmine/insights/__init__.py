"""Theme trends, emerging themes, signal priorities and key drivers: pure functions over what the
store aggregates (``Store.theme_aggregates``, ``conversation_totals``, ``survey_table``).
They take aggregation results, never a store, so both backends feed them the same way."""
