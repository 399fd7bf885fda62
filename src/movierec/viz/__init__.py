"""Charts, embedding projections and the HTML report (extra ``[viz]``)."""
