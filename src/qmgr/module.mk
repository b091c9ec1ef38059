$(eval $(call program,qmgr,libexec,global util))
