"""certify.audit"""
