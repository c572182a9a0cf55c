"""Placeholder, being written."""

import streamlit as st

from csc import ui

v = ui.require("data_quality")
st.title("data_quality")
